import type { Lab } from '../lab.js';
import { startBird } from './bird.js';
import { resolveConfig } from './config.js';
import { startFrr } from './frr.js';
import { startGobgp } from './gobgp.js';
import { prefix as canonicalPrefix } from './normalize.js';
import { waitFor, type WaitOptions } from './poll.js';
import type { Afi, LearnedRoute, NeighborStatus, Router, RouterConfig, RouterKind } from './types.js';

/**
 * Starts a BGP router of `kind` in the lab host `host` (usually one of the lab's `routers`) and
 * resolves once it runs with its configuration loaded. `router.stop()` stops it; `lab.destroy()`
 * kills its daemons in any case. Throws `LabError('BadOptions')` for a configuration the router
 * refuses (e.g. BFD on GoBGP), `CommandFailed` when a daemon does not come up.
 */
export async function startRouter(lab: Lab, host: string, kind: RouterKind, config: RouterConfig): Promise<Router> {
  lab.host(host);
  const resolved = resolveConfig(config);
  if (kind === 'frr') return startFrr(lab, host, config, resolved);
  if (kind === 'bird') return startBird(lab, host, config, resolved);
  return startGobgp(lab, host, config, resolved);
}

function describeRoutes(routes: readonly LearnedRoute[] | undefined): string {
  return routes === undefined ? 'no answer yet' : JSON.stringify(routes.map((r) => ({ prefix: r.prefix, nextHops: r.nextHops, paths: r.paths.length })));
}

/** Polls until the router holds `prefix` (and `check` passes); resolves with the route. */
export async function waitForRoute(router: Router, afi: Afi, prefix: string, check: (r: LearnedRoute) => boolean = () => true, opts: WaitOptions = {}): Promise<LearnedRoute> {
  const want = canonicalPrefix(prefix);
  let last: LearnedRoute[] | undefined;
  return waitFor(
    `${router.kind} in ${router.host} to hold ${want} as wanted`,
    async () => {
      last = await router.routes(afi);
      const r = last.find((x) => x.prefix === want);
      return r !== undefined && check(r) ? r : undefined;
    },
    { ...opts, detail: () => `last ${afi} table: ${describeRoutes(last)}\n--- ${router.kind} log\n${router.logs()}` },
  );
}

/** Polls until the router no longer holds `prefix`. */
export async function waitForNoRoute(router: Router, afi: Afi, prefix: string, opts: WaitOptions = {}): Promise<void> {
  const want = canonicalPrefix(prefix);
  let last: LearnedRoute[] | undefined;
  await waitFor(
    `${router.kind} in ${router.host} to drop ${want}`,
    async () => {
      last = await router.routes(afi);
      return last.some((x) => x.prefix === want) ? undefined : true;
    },
    { ...opts, detail: () => `last ${afi} table: ${describeRoutes(last)}` },
  );
}

/** Polls until the router reports neighbour `address` and `check` passes on it. */
export async function waitForNeighbor(router: Router, address: string, check: (n: NeighborStatus) => boolean, opts: WaitOptions = {}): Promise<NeighborStatus> {
  let last: NeighborStatus[] | undefined;
  return waitFor(
    `${router.kind} in ${router.host}: neighbour ${address} as wanted`,
    async () => {
      last = await router.neighbors();
      const n = last.find((x) => x.address === address);
      return n !== undefined && check(n) ? n : undefined;
    },
    { ...opts, detail: () => `last neighbours: ${JSON.stringify(last)}\n--- ${router.kind} log\n${router.logs()}` },
  );
}
