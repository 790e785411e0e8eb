import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { createLab, startRouter, waitFor, type Lab, type Router, type RouterKind } from '@herald/lab';
import { sleep, startBed, type Bed } from '@herald/speaker/testbed';
import { mutationFuzz } from 'bgp-speaker-lite';
import { birdCommand, BgpCapture, frrVty, gobgpCli, GobgpPoller, Sender, GOBGP_API_PORT } from './bgp-io.js';
import {
  BGP_KEEPALIVE,
  BGP_UPDATE,
  WallClock,
  birdProtocolCount,
  frrBfdStatus,
  frrPathNextHops,
  frrSummaryCount,
  gobgpNeighbor,
  kernelGateways,
  type PeerCount,
  type WireMessage,
} from './bgp-parse.js';
import { flag, percentile, round } from './stats.js';
import { guardTeardown } from './teardown.js';

/**
 * `npm run bench -- bgp [--trials N] [--prefixes N] [--status-trials N] [--bfd-trials N] [--fuzz-messages N]`
 *
 * Four measurements in one run (root: network namespaces, real FRR 8.4, BIRD 2.0, GoBGP 3.x):
 * 1. prefixes: N /32 prefixes (default 10,000) announced to each router in turn, by
 *    bgp-speaker-lite (Herald's BGP speaker library, routes loaded before the session starts)
 *    in node-1, and by gobgpd in node-2 (which first learned the same prefixes over loopback
 *    from a feeder in its own namespace). Herald and gobgpd alternate, one router and one
 *    announcer at a time, `--trials` times (default 3). Timed from the session reaching
 *    Established on the wire (the router's first KEEPALIVE to the node, captured in the node)
 *    to the router counting all N prefixes from that neighbour (polled on its own control
 *    socket or API, about 1 ms a query). UPDATE messages are counted on the wire (the same capture).
 * 2. statusToUpdate: the real speakers (2 nodes, the bed of the e2e suites; the controller is
 *    stopped) peer FRR; the bench writes a Service's status.loadBalancer.ingress itself and
 *    times from just before the write call to the first UPDATE carrying the /32, captured in
 *    FRR's namespace.
 * 3. bfdLinkCut: FRR and the speakers run BFD 100 ms x 3 with a 90 s hold time; node-2's
 *    link is cut at the bridge; time until FRR's kernel table (and its BGP table, and bfdd)
 *    no longer has node-2 as a next hop of the Service's /32.
 * 4. fuzz: bgp-speaker-lite's mutation fuzzer (framer + decoder), at least 1,000,000 inputs.
 */

const OUR_ASN = 4_200_000_001;
const ROUTERS: readonly RouterKind[] = ['frr', 'bird', 'gobgp'];
const ROUTER_ASN: Readonly<Record<RouterKind, number>> = { frr: 64512, bird: 64513, gobgp: 64514 };
/** RFC 2544's benchmarking range: 131,072 addresses, none of the lab's. */
const PREFIX_BASE = '198.18.0.0';
const PREFIX_ROOT = '198.18.0.0/15';
/** The feeder's session to gobgpd, inside node-2: its own loopback address. */
const FEEDER_ADDRESS = '127.0.0.2';
const FEEDER_ROUTER_ID = '10.255.0.2';
const SERVICE_POOL = ['198.51.100.0/24'];
const STATUS_IP_BASE = 10;
const MAX_STATUS_TRIALS = 200;
const BFD_IP = '198.51.100.250';
const BFD = { rxMs: 100, txMs: 100, multiplier: 3 } as const;
const HOLD_TIME_SEC = 90;
const LEARN_TIMEOUT_MS = 120_000;
/** How long after the last prefix is counted an End-of-RIB still counts as the trial's. */
const TRAILING_MS = 300;
/** Between two count queries (each about a millisecond on an idle router). */
const POLL_PAUSE_MS = 5;
const TARGETS = { learnRatioMax: 1.0, statusToUpdateP99Ms: 20, bfdLinkCutP99Ms: 1_000, fuzzMessagesMin: 1_000_000, fuzzUncaughtMax: 0 } as const;

const log = (s: string): void => {
  process.stderr.write(`bench bgp: ${s}\n`);
};
const clock = new WallClock();
const now = (): number => clock.now();

function summary(values: readonly number[], digits = 1): { p50Ms: number | null; p99Ms: number | null; maxMs: number | null; n: number } {
  const finite = values.filter(Number.isFinite);
  const r = (n: number): number | null => (Number.isFinite(n) ? round(n, digits) : null);
  return { p50Ms: r(percentile(finite, 50)), p99Ms: r(percentile(finite, 99)), maxMs: finite.length === 0 ? null : r(Math.max(...finite)), n: finite.length };
}

const p50 = (values: readonly number[]): number | null => {
  const v = percentile(values.filter(Number.isFinite), 50);
  return Number.isFinite(v) ? round(v, 1) : null;
};

/** Cleanup steps, run last-first, once, on the way out or on a signal. */
class Teardown {
  private readonly steps: Array<{ what: string; fn: () => Promise<unknown> | void }> = [];
  private running: Promise<void> | undefined;

  add(what: string, fn: () => Promise<unknown> | void): void {
    this.steps.push({ what, fn });
  }

  /** Runs every step added so far; steps added later wait for the next call. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (let s = this.steps.pop(); s !== undefined; s = this.steps.pop()) {
        try {
          await s.fn();
        } catch (err) {
          log(`cleanup ${s.what}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}

// ---- 1. prefixes -------------------------------------------------------------------------------

type Announcer = 'herald' | 'gobgpd';

interface LearnSample {
  readonly announcer: Announcer;
  readonly router: RouterKind;
  /** Established (router's first KEEPALIVE on the wire) to all prefixes counted by the router. */
  readonly learnMs: number;
  readonly establishedToFirstUpdateMs: number;
  readonly firstToLastUpdateMs: number;
  /** UPDATE messages to the router on the wire, all / carrying NLRI. */
  readonly updates: number;
  readonly updatesWithNlri: number;
  readonly updateOctets: number;
  /** UPDATEs the announcer says it sent (bgp-speaker-lite counters, gobgpd neighbour stats). */
  readonly updatesSentReported: number | undefined;
  readonly prefixesOnWire: number;
  /** The count queries' own duration: the resolution of `learnMs`. */
  readonly pollMs: number;
  readonly polls: number;
}

interface PrefixCtx {
  readonly lab: Lab;
  readonly routers: Readonly<Record<RouterKind, Router>>;
  readonly herald: Sender;
  readonly gobgpPoller: GobgpPoller;
  readonly captures: Readonly<Record<Announcer, BgpCapture>>;
  readonly count: number;
  readonly nodeOf: Readonly<Record<Announcer, string>>;
}

/** How many prefixes `router` holds from `neighbor`, by its cheapest query. */
async function peerCount(ctx: PrefixCtx, router: RouterKind, neighbor: string): Promise<PeerCount | undefined> {
  const r = ctx.routers[router];
  if (router === 'frr') {
    const { text } = await frrVty(join(r.dir, 'bgpd.vty'), 'show bgp ipv4 unicast summary json');
    return frrSummaryCount(text, neighbor);
  }
  if (router === 'bird') return birdProtocolCount(await birdCommand(join(r.dir, 'bird.ctl'), `show protocols all herald_${neighbor.replace(/[^A-Za-z0-9]/g, '_')}`));
  const g = await ctx.gobgpPoller.accepted(neighbor);
  return { established: g.error === undefined, prefixes: g.prefixes };
}

/** Routes the router's kernel table holds in the benchmark range (FRR and BIRD install them; GoBGP does not). */
async function kernelRouteCount(ctx: PrefixCtx, router: RouterKind): Promise<number> {
  if (router === 'gobgp') return 0;
  const r = await ctx.lab.exec(ctx.routers[router].host, 'ip', ['-4', 'route', 'show', 'root', PREFIX_ROOT]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

/** Waits until the router holds nothing from `neighbor` and its kernel table is back to empty. */
async function settle(ctx: PrefixCtx, router: RouterKind, neighbor: string): Promise<void> {
  await waitFor(
    `${router}: prefixes from ${neighbor} withdrawn, kernel table empty`,
    async () => ((await peerCount(ctx, router, neighbor))?.prefixes === 0 && (await kernelRouteCount(ctx, router)) === 0 ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  await sleep(300);
}

async function learnTrial(ctx: PrefixCtx, router: RouterKind, announcer: Announcer): Promise<LearnSample> {
  const r = ctx.routers[router];
  const rip = ctx.lab.host(r.host).ipv4;
  const node = ctx.lab.host(ctx.nodeOf[announcer]).ipv4;
  const cap = ctx.captures[announcer];
  cap.clear();
  clock.calibrate();
  const t0 = now();
  let before = 0;
  if (announcer === 'herald') {
    before = (await ctx.herald.command('start', [router])).counters?.[router]?.updatesSent ?? 0;
  } else {
    await gobgpCli(ctx.lab, ctx.nodeOf.gobgpd, ['neighbor', 'add', rip, 'as', String(ROUTER_ASN[router])]);
  }
  const polls: Array<{ start: number; end: number }> = [];
  let learnedAt = Number.NaN;
  for (;;) {
    const a = now();
    const c = await peerCount(ctx, router, node);
    const b = now();
    polls.push({ start: a, end: b });
    if (c !== undefined && c.prefixes >= ctx.count) {
      learnedAt = b;
      break;
    }
    if (b - t0 > LEARN_TIMEOUT_MS) throw new Error(`${announcer} -> ${router}: ${c?.prefixes ?? 0}/${ctx.count} prefixes after ${LEARN_TIMEOUT_MS} ms`);
    await sleep(POLL_PAUSE_MS);
  }
  // Let a trailing End-of-RIB reach the capture before counting.
  await sleep(TRAILING_MS);
  let updatesSentReported: number | undefined;
  if (announcer === 'herald') {
    const after = (await ctx.herald.command('counters')).counters?.[router]?.updatesSent;
    updatesSentReported = after === undefined ? undefined : after - before;
    await ctx.herald.command('stop', [router]);
  } else {
    updatesSentReported = gobgpNeighbor(await gobgpCli(ctx.lab, ctx.nodeOf.gobgpd, ['neighbor', rip, '-j']))?.updatesSent;
    await gobgpCli(ctx.lab, ctx.nodeOf.gobgpd, ['neighbor', 'del', rip]);
  }
  const { establishedAt, ...wire } = wireFigures(cap.messages, { node, router: rip, t0, learnedAt });
  await settle(ctx, router, node);
  // Only the queries that overlapped the learning say how finely it was timed.
  const during = polls.filter((p) => p.end >= establishedAt).map((p) => p.end - p.start);
  return { announcer, router, ...wire, updatesSentReported, pollMs: percentile(during, 50), polls: during.length };
}

/** What the capture in the announcing node shows of one trial's session. */
function wireFigures(
  messages: readonly WireMessage[],
  t: { node: string; router: string; t0: number; learnedAt: number },
): Omit<LearnSample, 'announcer' | 'router' | 'updatesSentReported' | 'pollMs' | 'polls'> & { establishedAt: number } {
  // The router's first KEEPALIVE answers our OPEN: from then on the announcer is Established.
  const est = messages.find((m) => m.src === t.router && m.dst === t.node && m.type === BGP_KEEPALIVE && m.at >= t.t0);
  const updates = messages.filter((m) => m.src === t.node && m.dst === t.router && m.type === BGP_UPDATE && m.at >= t.t0 && m.at <= t.learnedAt + TRAILING_MS);
  const withNlri = updates.filter((u) => u.nlri.length > 0);
  const first = updates[0];
  const last = withNlri.at(-1);
  const gap = (a: WireMessage | undefined, b: WireMessage | undefined): number => (a === undefined || b === undefined ? Number.NaN : b.at - a.at);
  return {
    establishedAt: est?.at ?? Number.NaN,
    learnMs: est === undefined ? Number.NaN : t.learnedAt - est.at,
    establishedToFirstUpdateMs: gap(est, first),
    firstToLastUpdateMs: gap(first, last),
    updates: updates.length,
    updatesWithNlri: withNlri.length,
    updateOctets: updates.reduce((a, u) => a + u.length, 0),
    prefixesOnWire: new Set(withNlri.flatMap((u) => u.nlri)).size,
  };
}

/** gobgpd in node-2: iBGP to the feeder on loopback; router neighbours are added per trial. */
function gobgpdToml(routerId: string): string {
  return [
    '[global.config]',
    `  as = ${OUR_ASN}`,
    `  router-id = "${routerId}"`,
    '  port = 179',
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${FEEDER_ADDRESS}"`,
    `    peer-as = ${OUR_ASN}`,
    '  [neighbors.transport.config]',
    '    passive-mode = true',
    '',
  ].join('\n');
}

async function benchPrefixes(teardown: Teardown, opts: { trials: number; count: number }): Promise<Record<string, unknown>> {
  log(`prefixes: lab with 2 nodes and FRR, BIRD, GoBGP; ${opts.count} prefixes, ${opts.trials} trial(s) per router and announcer`);
  const lab = await createLab({ nodes: 2, routers: [...ROUTERS] });
  teardown.add('prefix lab', () => lab.destroy());
  const n1 = lab.host('node-1').ipv4;
  const n2 = lab.host('node-2').ipv4;
  const started = await Promise.all(
    ROUTERS.map((k) =>
      startRouter(lab, k, k, {
        asn: ROUTER_ASN[k],
        routerId: lab.host(k).ipv4,
        families: ['ipv4'],
        holdTimeSec: HOLD_TIME_SEC,
        neighbors: [n1, n2].map((address) => ({ address, asn: OUR_ASN })),
      }),
    ),
  );
  for (const r of started) teardown.add(`router ${r.kind}`, () => r.stop());
  const routers = { frr: started[0], bird: started[1], gobgp: started[2] } as Record<RouterKind, Router>;

  const captures = { herald: await BgpCapture.start(lab, 'node-1'), gobgpd: await BgpCapture.start(lab, 'node-2') };
  const dropped: Record<string, number | undefined> = {};
  teardown.add('captures', async () => {
    dropped['node-1'] = await captures.herald.stop();
    dropped['node-2'] = await captures.gobgpd.stop();
  });

  const herald = await Sender.start(lab, 'node-1', {
    localAsn: OUR_ASN,
    routerId: n1,
    nextHop: n1,
    base: PREFIX_BASE,
    count: opts.count,
    holdTimeSec: HOLD_TIME_SEC,
    peers: ROUTERS.map((k) => ({ name: k, address: lab.host(k).ipv4, asn: ROUTER_ASN[k] })),
  });
  teardown.add('herald sender', () => herald.close());

  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-gobgpd-'));
  teardown.add('gobgpd folder', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gobgpd.toml'), gobgpdToml(n2));
  const gobgpd = lab.spawn('node-2', 'gobgpd', ['-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '--api-hosts', `127.0.0.1:${GOBGP_API_PORT}`, '--pprof-disable', '-l', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let gobgpdErr = '';
  gobgpd.stderr?.on('data', (b: Buffer) => {
    gobgpdErr = (gobgpdErr + b.toString()).slice(-4_000);
  });
  teardown.add('gobgpd', () => void gobgpd.kill('SIGKILL'));
  await waitFor('gobgpd in node-2 to answer', async () => {
    if (gobgpd.exitCode !== null) throw new Error(`gobgpd exited: ${gobgpdErr}`);
    return (await lab.exec('node-2', 'gobgp', ['-p', String(GOBGP_API_PORT), 'global'])).status === 0 ? true : undefined;
  }, { timeoutMs: 20_000, intervalMs: 100 });
  const feeder = await Sender.start(lab, 'node-2', {
    localAsn: OUR_ASN,
    routerId: FEEDER_ROUTER_ID,
    nextHop: n2,
    base: PREFIX_BASE,
    count: opts.count,
    holdTimeSec: HOLD_TIME_SEC,
    peers: [{ name: 'gobgpd', address: '127.0.0.1', asn: OUR_ASN, localAddress: FEEDER_ADDRESS }],
  });
  teardown.add('feeder', () => feeder.close());
  await feeder.command('start');
  await waitFor(`gobgpd to learn ${opts.count} prefixes from the feeder`, async () => {
    const out = await gobgpCli(lab, 'node-2', ['global', 'rib', 'summary', '-a', 'ipv4']);
    return new RegExp(`Destination: ${opts.count}\\b`).test(out) ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });

  const gobgpPoller = GobgpPoller.start(lab, 'gobgp');
  teardown.add('GoBGP poller', () => gobgpPoller.close());
  const ctx: PrefixCtx = { lab, routers, herald, gobgpPoller, captures, count: opts.count, nodeOf: { herald: 'node-1', gobgpd: 'node-2' } };
  const samples: LearnSample[] = [];
  for (let t = 0; t < opts.trials; t++) {
    for (const router of ROUTERS) {
      const order: Announcer[] = t % 2 === 0 ? ['herald', 'gobgpd'] : ['gobgpd', 'herald'];
      for (const a of order) {
        const s = await learnTrial(ctx, router, a);
        samples.push(s);
        log(
          `trial ${t + 1}/${opts.trials} ${a.padEnd(6)} -> ${router.padEnd(5)}: ${round(s.learnMs, 1)} ms (to first UPDATE ${round(s.establishedToFirstUpdateMs, 1)}, wire ${round(s.firstToLastUpdateMs, 1)}), ` +
            `${s.updates} UPDATEs (${s.updatesWithNlri} with NLRI, ${s.updateOctets} octets; sender says ${s.updatesSentReported ?? '?'}), poll ${round(s.pollMs, 1)} ms x ${s.polls}`,
        );
      }
    }
  }

  const perRouter: Record<string, unknown> = {};
  for (const router of ROUTERS) {
    const side = (a: Announcer): Record<string, unknown> => {
      const ss = samples.filter((s) => s.router === router && s.announcer === a);
      return {
        learnMs: summary(ss.map((s) => s.learnMs)),
        samplesMs: ss.map((s) => (Number.isFinite(s.learnMs) ? round(s.learnMs, 1) : null)),
        establishedToFirstUpdateMsP50: p50(ss.map((s) => s.establishedToFirstUpdateMs)),
        firstToLastUpdateMsP50: p50(ss.map((s) => s.firstToLastUpdateMs)),
        updatesOnWireP50: p50(ss.map((s) => s.updates)),
        updatesWithNlriP50: p50(ss.map((s) => s.updatesWithNlri)),
        updateOctetsP50: p50(ss.map((s) => s.updateOctets)),
        updatesSentReportedP50: p50(ss.map((s) => s.updatesSentReported ?? Number.NaN)),
        prefixesOnWire: ss.map((s) => s.prefixesOnWire),
        countQueryMsP50: p50(ss.map((s) => s.pollMs)),
      };
    };
    const h = side('herald');
    const g = side('gobgpd');
    const hp = (h['learnMs'] as { p50Ms: number | null }).p50Ms;
    const gp = (g['learnMs'] as { p50Ms: number | null }).p50Ms;
    const ratio = (a: unknown, b: unknown): number | null => (typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b, 3) : null);
    perRouter[router] = {
      herald: h,
      gobgpd: g,
      learnRatioP50: ratio(hp, gp),
      updatesRatioP50: ratio(h['updatesOnWireP50'], g['updatesOnWireP50']),
      updatesWithNlriRatioP50: ratio(h['updatesWithNlriP50'], g['updatesWithNlriP50']),
    };
  }
  await teardown.run();
  return {
    prefixes: opts.count,
    trials: opts.trials,
    perRouter,
    captureSkippedOctets: { 'node-1': captures.herald.skipped, 'node-2': captures.gobgpd.skipped },
    captureDroppedByKernel: dropped,
    measuredFrom:
      'learnMs: from the session reaching Established on the wire (capture time, in the announcing node, of the router\'s first KEEPALIVE after the trial start) to the end of the first count query that showed all prefixes from that neighbour (FRR: bgpd vty socket `show bgp ipv4 unicast summary json` pfxRcd; BIRD: control socket `show protocols all` imported; GoBGP: gRPC GetTable ADJ_IN num_accepted on one kept-open HTTP/2 connection from inside its namespace; each query waits for the busy router, so countQueryMs is the resolution). Excludes TCP connect and the OPEN exchange, and the routers installing the routes in their kernel tables; includes the announcer packing and sending, TCP, and the router parsing and accepting every prefix.',
    updatesFrom: 'UPDATE messages from the announcing node to the router in the trial, cut out of the reassembled TCP stream captured in the node (End-of-RIB included); updatesSentReported: bgp-speaker-lite counters / gobgpd neighbour statistics',
    setup: `herald: bgp-speaker-lite (bench/dist/bgp-sender.js) in node-1 with every route loaded before the session starts, AS ${OUR_ASN}; gobgpd: Debian's gobgpd in node-2, AS ${OUR_ASN}, holding the same prefixes learned over iBGP from a bgp-speaker-lite feeder on its own loopback, then given the router as a neighbour (gobgp neighbor add), next hop self; routers eBGP AS ${ROUTER_ASN.frr}/${ROUTER_ASN.bird}/${ROUTER_ASN.gobgp}, IPv4 unicast only; one router and one announcer at a time, alternating which announcer goes first`,
  };
}

// ---- 2 and 3. the real speaker ------------------------------------------------------------------

interface StatusSample {
  readonly firstMs: number;
  readonly allNodesMs: number;
  readonly callMs: number;
  readonly fromCallReturnMs: number;
}

async function statusTrial(bed: Bed, cap: BgpCapture, i: number): Promise<StatusSample> {
  const name = `st-${i}`;
  const ip = `198.51.100.${STATUS_IP_BASE + i}`;
  const pfx = `${ip}/32`;
  await bed.core.createNamespacedService({
    namespace: bed.ns,
    body: {
      metadata: { name, namespace: bed.ns },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: bed.lbClass,
        allocateLoadBalancerNodePorts: false,
        externalTrafficPolicy: 'Cluster',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        selector: { app: name },
      },
    },
  });
  await bed.setEndpoints(name, bed.lab.nodes);
  // The speakers' caches hold the Service and its slice before the IP appears.
  await sleep(400);
  const svc = await bed.core.readNamespacedService({ namespace: bed.ns, name });
  svc.status = { loadBalancer: { ingress: [{ ip }] } };
  clock.calibrate();
  const t0 = now();
  await bed.core.replaceNamespacedServiceStatus({ namespace: bed.ns, name, body: svc });
  const t1 = now();
  const nodes = bed.lab.nodes.map((h) => bed.lab.host(h).ipv4);
  const seen = await Promise.all(nodes.map((n) => cap.waitFor((m) => m.type === BGP_UPDATE && m.src === n && m.at >= t0 - 5 && m.nlri.includes(pfx), 5_000)));
  const at = seen.map((m) => m?.at ?? Number.POSITIVE_INFINITY);
  await bed.core.deleteNamespacedService({ namespace: bed.ns, name });
  await bed.discovery.deleteNamespacedEndpointSlice({ namespace: bed.ns, name: `${name}-lab` });
  await Promise.all(nodes.map((n) => cap.waitFor((m) => m.type === BGP_UPDATE && m.src === n && m.withdrawn.includes(pfx), 5_000)));
  return { firstMs: Math.min(...at) - t0, allNodesMs: Math.max(...at) - t0, callMs: t1 - t0, fromCallReturnMs: Math.min(...at) - t1 };
}

interface BfdSample {
  readonly kernelMs: number;
  readonly bgpTableMs: number;
  readonly bfdDownMs: number;
  readonly cutCallMs: number;
  readonly restoreMs: number;
  readonly kernelPollMs: number;
}

/** Polls `probe` until it returns true; the time (since `t0`) at the end of that probe, and the probe's duration. */
async function pollUntil(t0: number, timeoutMs: number, everyMs: number, probe: () => Promise<boolean>): Promise<{ ms: number; probeMs: number }> {
  const durations: number[] = [];
  for (;;) {
    const a = now();
    const ok = await probe().catch(() => false);
    const b = now();
    durations.push(b - a);
    if (ok) return { ms: b - t0, probeMs: percentile(durations, 50) };
    if (b - t0 > timeoutMs) return { ms: Number.POSITIVE_INFINITY, probeMs: percentile(durations, 50) };
    await sleep(everyMs);
  }
}

async function bfdTrial(bed: Bed, frr: Router, pfx: string): Promise<BfdSample> {
  const n1 = bed.lab.host('node-1').ipv4;
  const n2 = bed.lab.host('node-2').ipv4;
  const bgpNextHops = async (): Promise<string[]> => frrPathNextHops((await frrVty(join(frr.dir, 'bgpd.vty'), `show bgp ipv4 unicast ${pfx} json`)).text);
  const kernelNextHops = async (): Promise<string[]> => kernelGateways((await bed.lab.exec(frr.host, 'ip', ['-j', '-4', 'route', 'show', pfx])).stdout);
  const bfdStatus = async (): Promise<string | undefined> => frrBfdStatus((await frrVty(join(frr.dir, 'bfdd.vty'), 'show bfd peers json')).text, n2);
  const both = [n1, n2].sort().join();
  let seen = '';
  const ready = async (): Promise<boolean> => {
    const [b, k, f] = await Promise.all([bgpNextHops(), kernelNextHops(), bfdStatus()]).catch((err: unknown) => {
      seen = `query failed: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    });
    seen = `BGP next hops [${b.join(', ')}], kernel [${k.join(', ')}], BFD with node-2 ${f ?? 'none'}`;
    return b.join() === both && k.join() === both && f === 'up';
  };
  const detail = (): string => seen;
  await waitFor('FRR: both next hops (BGP, kernel) and BFD up with node-2', async () => ((await ready()) ? true : undefined), { timeoutMs: 90_000, intervalMs: 100, detail });
  // A steady state, not one just reached.
  await sleep(1_000);
  clock.calibrate();
  const t0 = now();
  await bed.lab.linkDown('node-2');
  const cutCallMs = now() - t0;
  let kernel: { ms: number; probeMs: number };
  let bgp: { ms: number; probeMs: number };
  let bfd: { ms: number; probeMs: number };
  try {
    [kernel, bgp, bfd] = await Promise.all([
      pollUntil(t0, 10_000, 2, async () => !(await kernelNextHops()).includes(n2)),
      pollUntil(t0, 10_000, 2, async () => !(await bgpNextHops()).includes(n2)),
      pollUntil(t0, 10_000, 2, async () => (await bfdStatus()) !== 'up'),
    ]);
  } finally {
    await bed.lab.linkUp('node-2');
  }
  const up = now();
  await waitFor('FRR: node-2 back (BGP, kernel, BFD)', async () => ((await ready()) ? true : undefined), { timeoutMs: 90_000, intervalMs: 100, detail });
  return { kernelMs: kernel.ms, bgpTableMs: bgp.ms, bfdDownMs: bfd.ms, cutCallMs, restoreMs: now() - up, kernelPollMs: kernel.probeMs };
}

async function benchSpeaker(teardown: Teardown, opts: { statusTrials: number; bfdTrials: number }): Promise<Record<string, unknown>> {
  log('speaker: local control plane');
  const cp: ControlPlane = await startControlPlane({ log, handleSignals: false });
  teardown.add('control plane', () => cp.stop());
  process.env['HERALD_TEST_KUBECONFIG'] = cp.kubeconfigPath;
  log('speaker: bed with 2 nodes and FRR; the controller is stopped, the bench writes Service status');
  const bed = await startBed({ nodes: 2, pool: SERVICE_POOL, advertisement: null, routers: ['frr'] });
  let done = false;
  // Runs after the bed is gone (its log streams closed): the logs only matter when something failed.
  teardown.add('bed logs', () => {
    if (done) rmSync(bed.logDir, { recursive: true, force: true });
    else log(`speaker and controller logs kept in ${bed.logDir}`);
  });
  teardown.add('bed', () => bed.destroy());
  bed.controller?.kill('SIGKILL');
  const n1 = bed.lab.host('node-1').ipv4;
  const n2 = bed.lab.host('node-2').ipv4;
  const frrIp = bed.lab.host('frr').ipv4;
  const frr = await bed.startRouter('frr', 'frr', {
    asn: ROUTER_ASN.frr,
    routerId: frrIp,
    families: ['ipv4'],
    holdTimeSec: HOLD_TIME_SEC,
    neighbors: [n1, n2].map((address) => ({ address, asn: OUR_ASN, bfd: BFD })),
  });
  await bed.apply('BFDProfile', 'bfdprofiles', 'fast', { receiveInterval: BFD.rxMs, transmitInterval: BFD.txMs, detectMultiplier: BFD.multiplier });
  await bed.apply('BGPPeer', 'bgppeers', 'frr', { myASN: OUR_ASN, peerASN: ROUTER_ASN.frr, peerAddress: frrIp, holdTime: `${HOLD_TIME_SEC}s`, connectTime: '2s', bfdProfile: 'fast' });
  await bed.apply('BGPAdvertisement', 'bgpadvertisements', 'lab', { ipAddressPools: ['lab'] });
  await bed.startSpeakers();
  await waitFor('FRR: both speakers Established with BFD up', async () => {
    const ns = await frr.neighbors();
    return [n1, n2].every((a) => ns.some((n) => n.address === a && n.state === 'Established' && n.bfd === 'Up')) ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  const cap = await BgpCapture.start(bed.lab, 'frr');
  teardown.add('capture in frr', () => cap.stop());

  log(`statusToUpdate: ${opts.statusTrials} Services, status written by the bench`);
  const status: StatusSample[] = [];
  for (let i = 0; i < opts.statusTrials; i++) {
    const s = await statusTrial(bed, cap, i);
    status.push(s);
    log(`status ${i + 1}/${opts.statusTrials}: first UPDATE ${round(s.firstMs, 1)} ms, both nodes ${round(s.allNodesMs, 1)} ms (write call ${round(s.callMs, 1)} ms)`);
  }

  log(`bfdLinkCut: ${opts.bfdTrials} link cuts of node-2`);
  const bfdSvc = 'bfd';
  await bed.core.createNamespacedService({
    namespace: bed.ns,
    body: {
      metadata: { name: bfdSvc, namespace: bed.ns },
      spec: { type: 'LoadBalancer', loadBalancerClass: bed.lbClass, allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: bfdSvc } },
    },
  });
  await bed.setEndpoints(bfdSvc, bed.lab.nodes);
  const svc = await bed.core.readNamespacedService({ namespace: bed.ns, name: bfdSvc });
  svc.status = { loadBalancer: { ingress: [{ ip: BFD_IP }] } };
  await bed.core.replaceNamespacedServiceStatus({ namespace: bed.ns, name: bfdSvc, body: svc });
  const bfd: BfdSample[] = [];
  for (let i = 0; i < opts.bfdTrials; i++) {
    const s = await bfdTrial(bed, frr, `${BFD_IP}/32`);
    bfd.push(s);
    log(`bfd ${i + 1}/${opts.bfdTrials}: kernel ${round(s.kernelMs, 1)} ms, BGP table ${round(s.bgpTableMs, 1)} ms, bfdd down ${round(s.bfdDownMs, 1)} ms (cut call ${round(s.cutCallMs, 1)} ms; back in ${round(s.restoreMs / 1000, 1)} s)`);
  }
  const dropped = await cap.stop();
  const skipped = cap.skipped;
  done = true;
  await teardown.run();

  const st = summary(status.map((s) => s.firstMs));
  const bk = summary(bfd.map((s) => s.kernelMs));
  return {
    statusToUpdate: {
      ...st,
      samplesMs: status.map((s) => (Number.isFinite(s.firstMs) ? round(s.firstMs, 1) : null)),
      timedOut: status.filter((s) => !Number.isFinite(s.firstMs)).length,
      bothNodes: summary(status.map((s) => s.allNodesMs)),
      fromWriteReturn: summary(status.map((s) => s.fromCallReturnMs)),
      writeCall: summary(status.map((s) => s.callMs)),
      captureSkippedOctets: skipped,
      captureDroppedByKernel: dropped ?? null,
      measuredFrom:
        'just before the bench calls replaceNamespacedServiceStatus (status.loadBalancer.ingress with the IP; the Service and its EndpointSlice existed 400 ms before) to the first UPDATE carrying the /32 from either node, captured in FRR\'s namespace (kernel timestamp, the same wall clock). Includes the API server write and watch fan-out, both speakers\' informers, the BGP plan and bgp-speaker-lite sending; bothNodes waits for the later node; fromWriteReturn starts when the write call returned (a lower bound). The controller is stopped: its allocation time is not in this figure (see the controller bench).',
    },
    bfdLinkCut: {
      ...bk,
      samplesMs: bfd.map((s) => (Number.isFinite(s.kernelMs) ? round(s.kernelMs, 1) : null)),
      timedOut: bfd.filter((s) => !Number.isFinite(s.kernelMs)).length,
      bgpTable: summary(bfd.map((s) => s.bgpTableMs)),
      bfdDown: summary(bfd.map((s) => s.bfdDownMs)),
      cutCall: summary(bfd.map((s) => s.cutCallMs)),
      kernelQueryMsP50: p50(bfd.map((s) => s.kernelPollMs)),
      restoreSeconds: p50(bfd.map((s) => s.restoreMs / 1000)),
      bfd: { ...BFD, holdTimeSec: HOLD_TIME_SEC },
      measuredFrom:
        'just before `ip link set node-2 down` on node-2\'s bridge port (the call itself is cutCall) to the end of the first query showing FRR without node-2 as a next hop of the Service /32: in the kernel table (headline; `ip -j route show`, queryMs resolution), in bgpd\'s table (vty socket), and bfdd\'s session state for node-2 (vty socket). Both nodes announce the /32 (eTP Cluster), so the route stays, via node-1. Each cut starts from a steady state: both next hops in both tables and BFD up for 1 s.',
    },
  };
}

// ---- 4. fuzz -------------------------------------------------------------------------------------

function benchFuzz(messages: number): Record<string, unknown> {
  const seed = 0x6865726c; // "herl": fixed, so a failure can be replayed
  log(`fuzz: ${messages} mutated messages through the framer and decoder (seed ${seed})`);
  const t0 = performance.now();
  const r = mutationFuzz({ count: messages, seed });
  const ms = performance.now() - t0;
  return {
    messages: r.count,
    uncaught: r.uncaught,
    outcomes: { decoded: r.decoded, rejected: r.rejected, incomplete: r.incomplete },
    messagesPerSecond: Math.round(r.count / (ms / 1000)),
    seconds: round(ms / 1000, 2),
    seed,
    ...(r.firstUncaught === undefined ? {} : { firstUncaught: r.firstUncaught }),
  };
}

// ---- the run -------------------------------------------------------------------------------------

function packageVersions(): Record<string, string> {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'frr', 'bird2', 'gobgpd', 'tcpdump'], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const [pkg, version] = line.trim().split(' ');
    if (pkg && version) out[pkg] = version;
  }
  return out;
}

export async function benchBgp(argv: string[]): Promise<Record<string, unknown>> {
  const trials = flag(argv, 'trials', 3);
  const count = flag(argv, 'prefixes', 10_000);
  const statusTrials = flag(argv, 'status-trials', 50);
  const bfdTrials = flag(argv, 'bfd-trials', 10);
  const fuzzMessages = flag(argv, 'fuzz-messages', 1_000_000);
  if (statusTrials > MAX_STATUS_TRIALS) throw new Error(`--status-trials at most ${MAX_STATUS_TRIALS}`);
  if (count > 131_072) throw new Error('--prefixes at most 131072 (198.18.0.0/15)');
  if (process.getuid?.() !== 0) throw new Error('bgp builds network namespaces and runs routers: it needs root');
  const started = performance.now();
  const teardown = new Teardown();
  const guard = guardTeardown(log, () => teardown.run());
  try {
    const fuzz = benchFuzz(fuzzMessages);
    const prefixes = await benchPrefixes(teardown, { trials, count });
    const speaker = await benchSpeaker(teardown, { statusTrials, bfdTrials });
    const perRouter = prefixes['perRouter'] as Record<string, { learnRatioP50: number | null }>;
    const st = speaker['statusToUpdate'] as { p99Ms: number | null };
    const bl = speaker['bfdLinkCut'] as { p99Ms: number | null };
    return {
      bench: 'bgp',
      prefixLearning: prefixes,
      ...speaker,
      fuzz,
      targets: TARGETS,
      meetsTargets: {
        learnRatio: Object.fromEntries(ROUTERS.map((r) => [r, perRouter[r]?.learnRatioP50 != null && (perRouter[r]?.learnRatioP50 ?? Infinity) <= TARGETS.learnRatioMax])),
        statusToUpdateP99: st.p99Ms !== null && st.p99Ms <= TARGETS.statusToUpdateP99Ms,
        bfdLinkCutP99: bl.p99Ms !== null && bl.p99Ms <= TARGETS.bfdLinkCutP99Ms,
        fuzz: (fuzz['messages'] as number) >= TARGETS.fuzzMessagesMin && fuzz['uncaught'] === TARGETS.fuzzUncaughtMax,
      },
      notes: [
        'p99 is nearest-rank: with fewer than 100 samples it is the maximum',
        `the machine has ${cpus().length} cores shared by the routers, both announcers, tcpdump and the bench itself; other work on it shows up in every figure`,
        'prefix learning: learnRatioP50 = herald p50 / gobgpd p50 for the same router (below 1.0: Herald faster); the count query is part of the measured time on both sides alike',
        'IPv4 only',
      ],
      durationSeconds: round((performance.now() - started) / 1000, 1),
      machine: { cpus: cpus().length, node: process.version, kernel: release(), kubernetes: KUBERNETES_VERSION, packages: packageVersions() },
    };
  } finally {
    await guard.finish();
  }
}
