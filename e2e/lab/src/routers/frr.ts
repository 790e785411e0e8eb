/**
 * FRR 8.4 in a lab host: zebra, bgpd and (with BFD) bfdd run directly, in the foreground, with
 * their own configuration, pid files, zserv socket and vty socket folder, so several FRR routers
 * can share the machine. Queried through `vtysh --vty_socket`.
 */
import { chownSync, existsSync, rmSync } from 'node:fs';
import { LabError } from '../errors.js';
import type { Lab } from '../lab.js';
import { run } from '../run.js';
import { RouterBase, RouterDir } from './base.js';
import type { ResolvedConfig } from './config.js';
import { Daemons } from './daemon.js';
import { frrConfigs } from './frr-config.js';
import { parseFrrBfdPeers, parseFrrNeighbors, parseFrrRoutes } from './parse-frr.js';
import { waitFor } from './poll.js';
import type { Afi, LearnedRoute, NeighborStatus, RouterConfig } from './types.js';

const FRR_LIB = '/usr/lib/frr';

async function frrIds(): Promise<{ uid: number; gid: number }> {
  const [u, g] = await Promise.all([run('id', ['-u', 'frr']), run('id', ['-g', 'frr'])]);
  const uid = Number(u.stdout.trim());
  const gid = Number(g.stdout.trim());
  if (u.status !== 0 || g.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new LabError('CommandFailed', 'FRR: no frr user (install the Debian package frr)');
  }
  return { uid, gid };
}

class FrrRouter extends RouterBase {
  readonly kind = 'frr';
  readonly bfdd: boolean;

  constructor(...args: ConstructorParameters<typeof RouterBase>) {
    super(...args);
    this.bfdd = 'bfdd.conf' in this.configFiles;
  }

  /** One vtysh call (about 45-95 ms); `-c` may be repeated, but each answer is then concatenated. */
  async vtysh(command: string): Promise<string> {
    const r = await this.run('vtysh', ['--vty_socket', this.dir, '-c', command]);
    return r.stdout;
  }

  async routes(afi: Afi): Promise<LearnedRoute[]> {
    return parseFrrRoutes(await this.vtysh(`show bgp ${afi} unicast json detail`));
  }

  async neighbors(): Promise<NeighborStatus[]> {
    const [nbrs, bfd] = await Promise.all([this.vtysh('show bgp neighbors json'), this.bfdd ? this.vtysh('show bfd peers json') : Promise.resolve(undefined)]);
    return parseFrrNeighbors(nbrs, bfd === undefined ? undefined : parseFrrBfdPeers(bfd));
  }

  /** FRR leaves a crash-log folder per daemon pid under /var/tmp/frr when killed; remove ours. */
  protected override afterStop(): void {
    for (const d of this.daemons.list) if (d.child.pid !== undefined) rmSync(`/var/tmp/frr/${d.name}.${d.child.pid}`, { recursive: true, force: true });
  }

  async ready(): Promise<void> {
    const want = this.resolved.neighbors.map((n) => n.address);
    await waitFor(
      `FRR in ${this.host} to load its configuration`,
      async () => {
        this.daemons.checkAlive(`FRR in ${this.host}`);
        this.checkConfigErrors();
        const got = new Set((await this.neighbors()).map((n) => n.address));
        return want.every((a) => got.has(a)) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, detail: () => this.logs() },
    );
    // A line bgpd rejected shows in its log only; give it the same scrutiny once loaded.
    this.checkConfigErrors();
  }

  private checkConfigErrors(): void {
    const bad = this.logs()
      .split('\n')
      .filter((l) => /on config line \d+/.test(l));
    if (bad.length > 0) throw new LabError('BadOptions', `FRR in ${this.host} rejected configuration lines:\n${bad.join('\n')}`);
  }
}

/** Starts FRR (zebra, bgpd, bfdd when a neighbour has BFD) in `host`. */
export async function startFrr(lab: Lab, host: string, config: RouterConfig, resolved: ResolvedConfig): Promise<FrrRouter> {
  const files = frrConfigs(resolved, `herald-${host}`);
  const { uid, gid } = await frrIds();
  const dir = new RouterDir('frr', lab, host);
  const daemons = new Daemons(lab, host);
  const router = new FrrRouter(lab, host, config, resolved, dir, daemons, { ...files });
  try {
    dir.write({ ...files });
    // The daemons drop to frr:frr and then create their pid files and sockets here.
    chownSync(dir.path, uid, gid);
    const common = (name: string): string[] => ['-f', dir.file(`${name}.conf`), '-i', dir.file(`${name}.pid`), '-z', dir.file('zserv.api'), '--vty_socket', dir.path, '-u', 'frr', '-g', 'frr', '-A', '127.0.0.1', '-P', '0'];
    daemons.spawn('zebra', `${FRR_LIB}/zebra`, common('zebra'));
    await waitFor(`zebra's socket in ${host}`, async () => {
      daemons.checkAlive(`FRR in ${host}`);
      return existsSync(dir.file('zserv.api')) ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, failFast: true });
    daemons.spawn('bgpd', `${FRR_LIB}/bgpd`, [...common('bgpd'), '-p', '179']);
    if (files['bfdd.conf'] !== undefined) daemons.spawn('bfdd', `${FRR_LIB}/bfdd`, [...common('bfdd'), '--bfdctl', dir.file('bfdd.sock')]);
    await router.ready();
    return router;
  } catch (err) {
    await router.stop();
    throw err;
  }
}
