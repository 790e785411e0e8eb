/**
 * Fault 3: upstream routers restarted, one at a time, again and again, under speakers that
 * announce Service IPs to them over BGP (bgp-speaker-lite dials; BGPPeer.connectTime 2s
 * bounds its reconnect backoff). After each restart every session must come back
 * Established, seen from the router and from the speakers' BGPSessionState, every route
 * must return with every node as a next hop, and the routers that were not restarted must
 * have kept theirs.
 */
import { randomBytes } from 'node:crypto';
import { waitFor, waitForNeighbor, type Afi, type LearnedRoute, type Router, type RouterConfig, type RouterKind } from '@herald/lab';
import { startBed, type Bed } from '@herald/speaker/testbed';
import { GROUP, VERSION } from '@herald/shared/api';
import { Checks, disposeLogs, errorText, report, round, silent, sleep, summary, type FaultReport, type Log, type Size } from './report.js';

export interface RouterRestartParams {
  readonly routers: readonly RouterKind[];
  /** Restarts of each router. */
  readonly restarts: number;
  /**
   * How long each router stays down: long enough for the speakers' reconnect backoff to
   * reach its cap (BGPPeer.connectTime, 2 s), so re-establishing is bounded by that cap.
   */
  readonly downMs: number;
}

export const ROUTER_RESTART_SIZES: Record<Size, RouterRestartParams> = {
  ci: { routers: ['frr', 'bird'], restarts: 3, downMs: 3_000 },
  long: { routers: ['frr', 'bird', 'gobgp'], restarts: 10, downMs: 5_000 },
};

const OUR_ASN = 4_200_000_001;
const ROUTER_ASN: Record<RouterKind, number> = { frr: 64512, bird: OUR_ASN, gobgp: 64514 };
const POOL = ['198.51.100.0/26', '2001:db8:100::/120'];
/**
 * After the router is up again, sessions must be Established within this: the speakers' next
 * dial comes within connectTime (2 s), the handshake in milliseconds; the rest is margin for
 * a loaded 2-core machine and for polling the router's CLI.
 */
export const ESTABLISH_BOUND_MS = 5_000;
/** After the sessions are up: every route must be back within this. */
export const ROUTES_BOUND_MS = 5_000;

interface Want {
  readonly afi: Afi;
  readonly prefix: string;
  readonly nextHops: readonly string[];
}

interface RestartResult {
  readonly router: RouterKind;
  readonly round: number;
  readonly stopMs: number;
  readonly startMs: number;
  /** From the router running again to every session Established in the router. */
  readonly establishedMs: number;
  /** From the router running again to every route back with every next hop. */
  readonly routesMs: number;
  /** From the router running again to every speaker's BGPSessionState Established. */
  readonly sessionStateMs: number;
  readonly othersKeptRoutes: boolean;
  readonly error?: string;
}

const pathHops = (r: LearnedRoute): string[] => [...new Set(r.paths.map((p) => p.nextHop))].sort();

/** Which of `want` the router lacks (or holds without every next hop). */
async function missingRoutes(router: Router, want: readonly Want[]): Promise<string[]> {
  const tables: Partial<Record<Afi, LearnedRoute[]>> = {};
  const missing: string[] = [];
  for (const w of want) {
    const table = (tables[w.afi] ??= await router.routes(w.afi));
    const r = table.find((x) => x.prefix === w.prefix);
    if (!r || JSON.stringify(pathHops(r)) !== JSON.stringify(w.nextHops)) missing.push(`${w.prefix}${r ? ` via ${pathHops(r).join(',')}` : ''}`);
  }
  return missing;
}

async function sessionStates(bed: Bed, peer: string): Promise<string[]> {
  const list = (await bed.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: bed.ns, plural: 'bgpsessionstates' })) as { items: { status?: { node?: string; peer?: string; bgpStatus?: string } }[] };
  return list.items.filter((i) => i.status?.peer === peer).map((i) => `${i.status?.node}:${i.status?.bgpStatus}`).sort();
}

async function restartOnce(bed: Bed, kind: RouterKind, round: number, config: RouterConfig, want: readonly Want[], downMs: number): Promise<RestartResult> {
  const old = bed.routers.get(kind);
  const t0 = Date.now();
  await old?.stop();
  const stopMs = Date.now() - t0;
  await sleep(downMs);
  const t1 = Date.now();
  const router = await bed.startRouter(kind, kind, config);
  const up = Date.now();
  const base = { router: kind, round, stopMs, startMs: up - t1 };
  const addrs = bed.lab.nodes.map((h) => bed.lab.host(h).ipv4);
  try {
    for (const a of addrs) await waitForNeighbor(router, a, (n) => n.state === 'Established', { timeoutMs: ESTABLISH_BOUND_MS * 3, intervalMs: 50 });
    const establishedMs = Date.now() - up;
    await waitFor(`${kind}: every route back with every next hop`, async () => ((await missingRoutes(router, want)).length === 0 ? true : undefined), { timeoutMs: ROUTES_BOUND_MS * 3, intervalMs: 50 });
    const routesMs = Date.now() - up;
    const peer = bed.lab.host(kind).ipv4;
    const wantStates = bed.lab.nodes.map((h) => `${bed.nodeName(h)}:Established`).sort();
    await waitFor(`${kind}: every BGPSessionState Established`, async () => (JSON.stringify(await sessionStates(bed, peer)) === JSON.stringify(wantStates) ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
    const sessionStateMs = Date.now() - up;
    let othersKeptRoutes = true;
    for (const [k, other] of bed.routers) if (k !== kind && (await missingRoutes(other, want)).length > 0) othersKeptRoutes = false;
    return { ...base, establishedMs, routesMs, sessionStateMs, othersKeptRoutes };
  } catch (err) {
    const inf = Number.POSITIVE_INFINITY;
    return { ...base, establishedMs: inf, routesMs: inf, sessionStateMs: inf, othersKeptRoutes: false, error: errorText(err).slice(0, 2_000) };
  }
}

/** Runs fault 3 at `size` and reports; the bed (and its routers) is destroyed whatever happens. */
export async function runRouterRestart(size: Size, opts: { log?: Log; params?: Partial<RouterRestartParams> } = {}): Promise<FaultReport> {
  const p: RouterRestartParams = { ...ROUTER_RESTART_SIZES[size], ...opts.params };
  const log = opts.log ?? silent;
  const started = Date.now();
  const checks = new Checks();
  const measured: Record<string, unknown> = {};
  let bed: Bed | undefined;
  try {
    bed = await startBed({ nodes: 2, pool: POOL, advertisement: null, routers: [...p.routers], prefix: `fr${randomBytes(3).toString('hex')}` });
    log(`bed ${bed.ns} (2 nodes, routers ${p.routers.join(', ')}); logs in ${bed.logDir}`);
    const b = bed;
    const v4 = (h: string): string => b.lab.host(h).ipv4;
    const v6 = (h: string): string => b.lab.host(h).ipv6;
    const configs = new Map<RouterKind, RouterConfig>();
    for (const kind of p.routers) {
      const config: RouterConfig = { asn: ROUTER_ASN[kind], routerId: v4(kind), neighbors: b.lab.nodes.map((h) => ({ address: v4(h), asn: OUR_ASN })) };
      configs.set(kind, config);
      await b.startRouter(kind, kind, config);
      await b.apply('BGPPeer', 'bgppeers', kind, { myASN: OUR_ASN, peerASN: ROUTER_ASN[kind], peerAddress: v4(kind), dualStackAddressFamily: true, connectTime: '2s' });
    }
    await b.apply('BGPAdvertisement', 'bgpadvertisements', 'lab', { ipAddressPools: ['lab'] });
    await b.startSpeakers();
    await b.createService('web', { families: [4, 6] });
    await b.createService('api');
    const [web4, web6] = await b.ips('web', 2);
    const [api4] = await b.ips('api');
    const hops4 = b.lab.nodes.map(v4).sort();
    const hops6 = b.lab.nodes.map(v6).sort();
    const want: Want[] = [
      { afi: 'ipv4', prefix: `${web4}/32`, nextHops: hops4 },
      { afi: 'ipv6', prefix: `${web6}/128`, nextHops: hops6 },
      { afi: 'ipv4', prefix: `${api4}/32`, nextHops: hops4 },
    ];
    for (const [kind, router] of b.routers) {
      await waitFor(`${kind}: initial routes`, async () => ((await missingRoutes(router, want)).length === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
    }
    log(`every router holds ${want.length} routes from both nodes; restarting`);

    const results: RestartResult[] = [];
    for (let round = 1; round <= p.restarts; round++) {
      for (const kind of p.routers) {
        const r = await restartOnce(b, kind, round, configs.get(kind) as RouterConfig, want, p.downMs);
        results.push(r);
        log(`${kind} restart ${round}/${p.restarts}: stop ${r.stopMs} ms, start ${r.startMs} ms; then Established ${r.establishedMs} ms, routes ${r.routesMs} ms, BGPSessionState ${r.sessionStateMs} ms${r.error ? ` ERROR ${r.error.split('\n')[0]}` : ''}`);
      }
    }
    const per = (kind: RouterKind): Record<string, unknown> => {
      const rs = results.filter((r) => r.router === kind);
      return { restarts: rs.length, establishedMs: summary(rs.map((r) => r.establishedMs)), routesMs: summary(rs.map((r) => r.routesMs)), sessionStateMs: summary(rs.map((r) => r.sessionStateMs)), startMs: summary(rs.map((r) => r.startMs)) };
    };
    measured['byRouter'] = Object.fromEntries(p.routers.map((k) => [k, per(k)]));
    measured['failed'] = results.filter((r) => r.error !== undefined);
    const done = results.filter((r) => r.error === undefined);
    checks.add(`every one of ${results.length} restarts brought every session back and every route with every next hop`, done.length === results.length, measured['failed']);
    const slowSessions = done.filter((r) => r.establishedMs >= ESTABLISH_BOUND_MS);
    checks.add(`sessions are Established within ${ESTABLISH_BOUND_MS} ms of the router running again`, slowSessions.length === 0, slowSessions.map((r) => `${r.router} #${r.round}: ${round(r.establishedMs)} ms`));
    const slowRoutes = done.filter((r) => r.routesMs - r.establishedMs >= ROUTES_BOUND_MS);
    checks.add(`routes are back within ${ROUTES_BOUND_MS} ms of the sessions`, slowRoutes.length === 0, slowRoutes.map((r) => `${r.router} #${r.round}: ${round(r.routesMs - r.establishedMs)} ms`));
    checks.add('routers not being restarted keep every route meanwhile', done.every((r) => r.othersKeptRoutes), done.filter((r) => !r.othersKeptRoutes).map((r) => `${r.router} #${r.round}`));
    const dead = [...b.speakers].filter(([, c]) => c.exitCode !== null || c.signalCode !== null).map(([h]) => h);
    checks.add('every speaker is still running', dead.length === 0, dead);
  } catch (err) {
    checks.add('the fault ran to completion', false, errorText(err));
  } finally {
    await bed?.destroy();
    disposeLogs(bed?.logDir, checks, measured);
  }
  return report('router-restart', size, started, { ...p, nodes: 2, connectTime: '2s', establishBoundMs: ESTABLISH_BOUND_MS, routesBoundMs: ROUTES_BOUND_MS }, measured, checks);
}
