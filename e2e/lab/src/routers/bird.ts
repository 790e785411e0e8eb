/**
 * BIRD 2.0 in a lab host: `bird -f` (foreground) with its own configuration, control socket and
 * pid file; queried through `birdc -s SOCKET` (text only, parsed by parse-bird.ts).
 */
import { LabError } from '../errors.js';
import type { Lab } from '../lab.js';
import { describeFailure, run } from '../run.js';
import { RouterBase, RouterDir } from './base.js';
import { BIRD_KERNEL, BIRD_TABLE, birdConfig, birdProtocolName } from './bird-config.js';
import type { ResolvedConfig } from './config.js';
import { Daemons } from './daemon.js';
import { parseBirdBfdSessions, parseBirdProtocols, parseBirdRoutes } from './parse-bird.js';
import { waitFor } from './poll.js';
import type { Afi, LearnedRoute, NeighborStatus, RouterConfig } from './types.js';

class BirdRouter extends RouterBase {
  readonly kind = 'bird';

  /** One birdc call (about 13 ms). */
  async birdc(...command: string[]): Promise<string> {
    const r = await this.run('birdc', ['-s', this.rdir.file('bird.ctl'), ...command]);
    return r.stdout;
  }

  private protocolNames(): Map<string, string> {
    return new Map(this.resolved.neighbors.map((n) => [birdProtocolName(n.address), n.address]));
  }

  async routes(afi: Afi): Promise<LearnedRoute[]> {
    const [table, exported] = await Promise.all([this.birdc('show', 'route', 'all', 'table', BIRD_TABLE[afi]), this.birdc('show', 'route', 'all', 'export', BIRD_KERNEL[afi])]);
    return parseBirdRoutes(table, exported, this.protocolNames());
  }

  async neighbors(): Promise<NeighborStatus[]> {
    const withBfd = new Set(this.resolved.neighbors.filter((n) => n.bfd !== undefined).map((n) => n.address));
    const [protocols, bfd] = await Promise.all([this.birdc('show', 'protocols', 'all'), withBfd.size > 0 ? this.birdc('show', 'bfd', 'sessions') : Promise.resolve('')]);
    return parseBirdProtocols(protocols, parseBirdBfdSessions(bfd), withBfd);
  }

  async ready(): Promise<void> {
    await waitFor(
      `BIRD in ${this.host} to start`,
      async () => {
        this.daemons.checkAlive(`BIRD in ${this.host}`);
        const r = await this.lab.exec(this.host, 'birdc', ['-s', this.rdir.file('bird.ctl'), 'show', 'status']);
        return r.status === 0 && /Daemon is up and running/.test(r.stdout) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, detail: () => this.logs() },
    );
  }
}

/** Starts BIRD in `host`; the configuration is checked with `bird -p` first. */
export async function startBird(lab: Lab, host: string, config: RouterConfig, resolved: ResolvedConfig): Promise<BirdRouter> {
  const conf = birdConfig(resolved);
  const dir = new RouterDir('bird', lab, host);
  const daemons = new Daemons(lab, host);
  const router = new BirdRouter(lab, host, config, resolved, dir, daemons, { 'bird.conf': conf });
  try {
    dir.write({ 'bird.conf': conf });
    const check = await run('bird', ['-p', '-c', dir.file('bird.conf')]);
    if (check.status !== 0) throw new LabError('BadOptions', describeFailure(`BIRD configuration for ${host}`, check));
    daemons.spawn('bird', 'bird', ['-f', '-c', dir.file('bird.conf'), '-s', dir.file('bird.ctl'), '-P', dir.file('bird.pid')]);
    await router.ready();
    return router;
  } catch (err) {
    await router.stop();
    throw err;
  }
}
