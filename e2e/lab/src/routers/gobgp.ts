/**
 * GoBGP in a lab host: `gobgpd` with its own TOML, its gRPC API on the namespace's loopback;
 * queried through the `gobgp` CLI. GoBGP has no BFD and installs no kernel routes by itself.
 */
import { LabError } from '../errors.js';
import type { Lab } from '../lab.js';
import { describeFailure, run } from '../run.js';
import { RouterBase, RouterDir } from './base.js';
import type { ResolvedConfig } from './config.js';
import { Daemons } from './daemon.js';
import { GOBGP_API_PORT, gobgpConfig } from './gobgp-config.js';
import { parseGobgpNeighbors, parseGobgpRib } from './parse-gobgp.js';
import { waitFor } from './poll.js';
import type { Afi, LearnedRoute, NeighborStatus, RouterConfig } from './types.js';

class GobgpRouter extends RouterBase {
  readonly kind = 'gobgp';

  /** One CLI call (about 12-75 ms). */
  async gobgp(...args: string[]): Promise<string> {
    const r = await this.run('gobgp', ['-u', '127.0.0.1', '-p', String(GOBGP_API_PORT), ...args]);
    return r.stdout;
  }

  async routes(afi: Afi): Promise<LearnedRoute[]> {
    return parseGobgpRib(await this.gobgp('global', 'rib', '-a', afi, '-j'));
  }

  async neighbors(): Promise<NeighborStatus[]> {
    return parseGobgpNeighbors(await this.gobgp('neighbor', '-j'));
  }

  async ready(): Promise<void> {
    const want = this.resolved.neighbors.length;
    await waitFor(
      `GoBGP in ${this.host} to start`,
      async () => {
        this.daemons.checkAlive(`GoBGP in ${this.host}`);
        const r = await this.lab.exec(this.host, 'gobgp', ['-u', '127.0.0.1', '-p', String(GOBGP_API_PORT), 'neighbor', '-j']);
        return r.status === 0 && parseGobgpNeighbors(r.stdout).length === want ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, detail: () => this.logs() },
    );
  }
}

/** Starts gobgpd in `host`; the configuration is checked with `gobgpd --dry-run` first. */
export async function startGobgp(lab: Lab, host: string, config: RouterConfig, resolved: ResolvedConfig): Promise<GobgpRouter> {
  const conf = gobgpConfig(resolved);
  const dir = new RouterDir('gobgp', lab, host);
  const daemons = new Daemons(lab, host);
  const router = new GobgpRouter(lab, host, config, resolved, dir, daemons, { 'gobgpd.toml': conf });
  try {
    dir.write({ 'gobgpd.toml': conf });
    const check = await run('gobgpd', ['--dry-run', '-f', dir.file('gobgpd.toml'), '-t', 'toml']);
    if (check.status !== 0) throw new LabError('BadOptions', describeFailure(`GoBGP configuration for ${host}`, check));
    daemons.spawn('gobgpd', 'gobgpd', ['-f', dir.file('gobgpd.toml'), '-t', 'toml', '--api-hosts', `127.0.0.1:${GOBGP_API_PORT}`, '--pprof-disable']);
    await router.ready();
    return router;
  } catch (err) {
    await router.stop();
    throw err;
  }
}
