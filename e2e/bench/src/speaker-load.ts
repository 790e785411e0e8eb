import { cpus, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { sleep, startBed, type Bed } from '@herald/speaker/testbed';
import { watchProcs, type ProcWindow } from './proc.js';
import { flag, pool, round } from './stats.js';
import { guardTeardown } from './teardown.js';

/**
 * `npm run bench -- speaker-load [--services N] [--nodes K] [--idle-seconds S]`
 * (`BENCH_SPEAKER_NODE_OPTIONS` passes V8 flags to the speakers; the chart sets none)
 *
 * The real speaker's memory and CPU with N IPv4 Services (default 1,000) announced by L2, on
 * the network-namespace bed (K nodes, default 2, each running the real speaker; the real
 * controller; a client), against a fresh local control plane. The same speaker processes are
 * measured three times, sampling /proc every second:
 * - baseline: idle for S seconds (default 30) with no Service at all (same run, same processes);
 * - ramp-up: from the first Service created until every IP is owned by one speaker
 *   (herald_l2_owned_ips summed over the nodes) and has its ServiceL2Status;
 * - loaded: idle for S seconds with the N IPs announced.
 * Reported per node and in total: VmRSS (mean over the window), VmHWM (peak), CPU; the growth
 * over the baseline per owned IP. A few IPs are then asked for with arping from the client:
 * the owner must answer.
 */

/** RFC 2544's benchmarking range (198.18.0.0/15): not the lab's subnet; the speaker answers ARP for pool IPs whatever the subnet. */
const POOL = '198.18.0.0/20';
const MAX_SERVICES = 4_000;
const SETTLE_MS = 5_000;
const SAMPLE_MS = 1_000;
const RAMP_TIMEOUT_MS = 15 * 60_000;
const CREATE_CONCURRENCY = 8;
const SPOT_CHECKS = 5;
/** From the chart's speaker resources (charts/herald/values.yaml): memory limit 384Mi, CPU request 50m. */
const TARGETS = { peakRssMiBBelow: 384, loadedIdleCpuPercentMax: 5 } as const;

const log = (s: string): void => {
  process.stderr.write(`bench speaker-load: ${s}\n`);
};

const windowJson = (w: ProcWindow): Record<string, number> => ({
  seconds: round(w.seconds, 1),
  cpuSeconds: round(w.cpuSeconds, 2),
  cpuPercent: round(w.cpuPercent, 2),
  rssMiB: round(w.rssMiBAvg, 1),
  rssMiBMax: round(w.rssMiBMax, 1),
  hwmMiB: round(w.hwmMiB, 1),
});

async function ownedTotal(bed: Bed, hosts: readonly string[]): Promise<number[]> {
  return Promise.all(hosts.map((h) => bed.metric(h, 'herald_l2_owned_ips')));
}

/** V8 heap in use per speaker, MiB (prom-client's default metric): live memory, unlike RSS. */
async function heapUsedMiB(bed: Bed, hosts: readonly string[]): Promise<number[]> {
  return Promise.all(hosts.map(async (h) => (await bed.metric(h, 'herald_speaker_nodejs_heap_size_used_bytes')) / 2 ** 20));
}

async function statusCount(bed: Bed): Promise<number> {
  const list = (await bed.custom.listNamespacedCustomObject({ group: 'herald.io', version: 'v1beta1', namespace: bed.ns, plural: 'servicel2statuses' })) as { items: unknown[] };
  return list.items.length;
}

/** Creates N Services and resolves once every IP is owned by one speaker and has its status object. */
async function ramp(bed: Bed, hosts: readonly string[], n: number): Promise<{ seconds: number; createSeconds: number }> {
  const t0 = performance.now();
  let created = 0;
  await pool(Array.from({ length: n }, (_, i) => i), CREATE_CONCURRENCY, async (i) => {
    await bed.createService(`ld-${i}`);
    if (++created % 250 === 0) log(`  ${created}/${n} Services created`);
  });
  const createSeconds = (performance.now() - t0) / 1000;
  let last = 0;
  for (;;) {
    const owned = (await ownedTotal(bed, hosts)).reduce((a, b) => a + b, 0);
    if (owned >= n && (await statusCount(bed)) >= n) return { seconds: (performance.now() - t0) / 1000, createSeconds };
    for (const h of hosts) if (!bed.speakers.get(h) || bed.speakers.get(h)?.exitCode !== null) throw new Error(`speaker ${h} exited during the ramp`);
    if (performance.now() - t0 > RAMP_TIMEOUT_MS) throw new Error(`only ${owned}/${n} IPs owned after ${RAMP_TIMEOUT_MS / 1000} s`);
    if (performance.now() - last > 10_000) {
      log(`  ${owned}/${n} IPs owned`);
      last = performance.now();
    }
    await sleep(500);
  }
}

/** Asks (arping from the client) for a few IPs: each must be answered by its owner only. */
async function spotCheck(bed: Bed, n: number): Promise<{ asked: number; answeredByOwnerOnly: number; wrong: string[] }> {
  const wrong: string[] = [];
  let ok = 0;
  const picks = Array.from({ length: Math.min(SPOT_CHECKS, n) }, (_, i) => Math.floor((i * n) / Math.min(SPOT_CHECKS, n)));
  for (const i of picks) {
    const name = `ld-${i}`;
    const [ip] = await bed.ips(name);
    const owner = await bed.owner(name);
    const macs = await bed.ask(ip ?? '');
    if (macs.length === 1 && macs[0] === bed.macOf(owner)) ok++;
    else wrong.push(`${ip}: owner ${owner}, answered by ${JSON.stringify(macs)}`);
  }
  return { asked: picks.length, answeredByOwnerOnly: ok, wrong };
}

export async function benchSpeakerLoad(argv: string[]): Promise<Record<string, unknown>> {
  const n = flag(argv, 'services', 1_000);
  const nodes = flag(argv, 'nodes', 2);
  const idleSeconds = flag(argv, 'idle-seconds', 30);
  if (n > MAX_SERVICES) throw new Error(`--services at most ${MAX_SERVICES} (the pool is ${POOL})`);
  if (process.getuid?.() !== 0) throw new Error('speaker-load builds network namespaces and needs root');
  const started = performance.now();

  let cp: ControlPlane | undefined;
  let bed: Bed | undefined;
  const guard = guardTeardown(log, async () => {
    try {
      await bed?.destroy();
    } finally {
      await cp?.stop();
    }
  });

  try {
    cp = await startControlPlane({ log, handleSignals: false });
    process.env['HERALD_TEST_KUBECONFIG'] = cp.kubeconfigPath;
    log(`building the bed: ${nodes} nodes, client, controller`);
    bed = await startBed({ nodes, pool: [POOL] });
    // The client is not measured: keep its neighbour table from filling with 1,000 entries
    // learned from gratuitous ARPs (the bed turns arp_accept on for the failover suites).
    await bed.lab.exec('client', 'sysctl', ['-w', 'net.ipv4.conf.eth0.arp_accept=0']);
    // The chart sets no V8 flags for the speaker; BENCH_SPEAKER_NODE_OPTIONS tries some.
    const speakerNodeOptions = process.env['BENCH_SPEAKER_NODE_OPTIONS'] ?? '';
    const hosts = bed.lab.nodes;
    await Promise.all(hosts.map((h) => bed?.startSpeaker(h, speakerNodeOptions === '' ? {} : { NODE_OPTIONS: speakerNodeOptions })));
    const pids = hosts.map((h) => {
      const pid = bed?.speakers.get(h)?.pid;
      if (pid === undefined) throw new Error(`no speaker process on ${h}`);
      // `ip netns exec` execs the command: the pid is the speaker's own.
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('speaker')) throw new Error(`pid ${pid} on ${h} is not the speaker`);
      return pid;
    });
    await sleep(SETTLE_MS);

    log(`baseline: ${idleSeconds} s idle with no Service`);
    const baseline = await watchProcs(pids, SAMPLE_MS, sleep(idleSeconds * 1000));
    const heapBaseline = await heapUsedMiB(bed, hosts);

    log(`ramp-up: creating ${n} Services (${CREATE_CONCURRENCY} in flight) until every IP is announced`);
    const rampDone = ramp(bed, hosts, n);
    const rampWin = await watchProcs(pids, SAMPLE_MS, rampDone.catch(() => undefined));
    const r = await rampDone;
    log(`all ${n} IPs announced after ${round(r.seconds, 1)} s (created in ${round(r.createSeconds, 1)} s)`);
    const owned = await ownedTotal(bed, hosts);

    await sleep(SETTLE_MS);
    log(`loaded: ${idleSeconds} s idle with ${n} IPs announced`);
    const loaded = await watchProcs(pids, SAMPLE_MS, sleep(idleSeconds * 1000));
    const heapLoaded = await heapUsedMiB(bed, hosts);
    const spot = await spotCheck(bed, n);

    const perNode = hosts.map((h, i) => {
      const b = baseline[i];
      const l = loaded[i];
      const rw = rampWin[i];
      const o = owned[i] ?? 0;
      if (!b || !l || !rw) throw new Error('missing window');
      return {
        node: h,
        ownedIps: o,
        baseline: windowJson(b),
        rampUp: windowJson(rw),
        loaded: windowJson(l),
        heapUsedMiB: { baseline: round(heapBaseline[i] ?? Number.NaN, 1), loaded: round(heapLoaded[i] ?? Number.NaN, 1) },
        rssGrowthMiB: round(l.rssMiBAvg - b.rssMiBAvg, 1),
        rssGrowthPerOwnedIpKiB: o > 0 ? round(((l.rssMiBAvg - b.rssMiBAvg) * 1024) / o, 1) : null,
        // Every speaker caches every Service, owned or not.
        rssGrowthPerServiceKiB: round(((l.rssMiBAvg - b.rssMiBAvg) * 1024) / n, 1),
        idleCpuGrowthPercent: round(l.cpuPercent - b.cpuPercent, 2),
        rampCpuMsPerOwnedIp: o > 0 ? round((rw.cpuSeconds * 1000) / o, 2) : null,
      };
    });
    const sum = (ws: readonly ProcWindow[], f: (w: ProcWindow) => number): number => ws.reduce((a, w) => a + f(w), 0);
    const ownedSum = owned.reduce((a, b) => a + b, 0);
    const peak = Math.max(...loaded.map((w) => w.hwmMiB), ...rampWin.map((w) => w.hwmMiB));
    const loadedCpuMax = Math.max(...loaded.map((w) => w.cpuPercent));
    return {
      bench: 'speaker-load',
      services: n,
      nodes,
      idleSeconds,
      total: {
        ownedIps: ownedSum,
        rssMiB: { baseline: round(sum(baseline, (w) => w.rssMiBAvg), 1), loaded: round(sum(loaded, (w) => w.rssMiBAvg), 1) },
        rssGrowthPerOwnedIpKiB: ownedSum > 0 ? round(((sum(loaded, (w) => w.rssMiBAvg) - sum(baseline, (w) => w.rssMiBAvg)) * 1024) / ownedSum, 1) : null,
        peakHwmMiB: round(peak, 1),
        heapUsedMiB: { baseline: round(heapBaseline.reduce((a, b) => a + b, 0), 1), loaded: round(heapLoaded.reduce((a, b) => a + b, 0), 1) },
        idleCpuPercent: { baseline: round(sum(baseline, (w) => w.cpuPercent), 2), loaded: round(sum(loaded, (w) => w.cpuPercent), 2) },
        rampUp: { seconds: round(r.seconds, 1), createSeconds: round(r.createSeconds, 1), cpuSeconds: round(sum(rampWin, (w) => w.cpuSeconds), 2), cpuMsPerOwnedIp: ownedSum > 0 ? round((sum(rampWin, (w) => w.cpuSeconds) * 1000) / ownedSum, 2) : null },
      },
      perNode,
      spotCheck: spot,
      comparison: 'baseline: the same speaker processes idle with 0 Services, measured before the ramp-up in the same run',
      speakerNodeOptions,
      targets: { peakRssMiB: `< ${TARGETS.peakRssMiBBelow} MiB (the chart's speaker memory limit)`, loadedIdleCpuPercent: `<= ${TARGETS.loadedIdleCpuPercentMax}% of a core per speaker (the chart's 50m CPU request)` },
      meetsTargets: { peakRss: peak < TARGETS.peakRssMiBBelow, loadedIdleCpu: loadedCpuMax <= TARGETS.loadedIdleCpuPercentMax, spotCheck: spot.answeredByOwnerOnly === spot.asked },
      notes: [
        `IPv4 Services from ${POOL}, externalTrafficPolicy Cluster, an EndpointSlice on every node; the IPs split over the ${nodes} speakers by owner election`,
        `rssMiB is VmRSS averaged over the window (sampled every ${SAMPLE_MS} ms); hwmMiB is VmHWM at the end of the window; cpuPercent is user+system CPU over the window in percent of one core`,
        'heapUsedMiB: V8 heap in use at the end of the window (the speaker metric herald_speaker_nodejs_heap_size_used_bytes); RSS also holds heap V8 has not given back, code and buffers',
        'the rampUp window includes informer traffic, owner election, gratuitous ARP bursts and one ServiceL2Status write per IP',
        `the machine has ${cpus().length} cores shared with the API server, etcd, the controller and the bench`,
      ],
      durationSeconds: round((performance.now() - started) / 1000, 1),
      machine: { cpus: cpus().length, node: process.version, kernel: release(), kubernetes: KUBERNETES_VERSION },
    };
  } finally {
    await guard.finish();
  }
}
