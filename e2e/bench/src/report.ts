/**
 * The benchmark report: JSON objects the benches printed in, Markdown and SVG strings out.
 * Pure (no I/O), so it renders the same from a fresh run or from saved results. Each bench's
 * JSON is read through a lenient zod schema: fields a bench did not print show as `–`,
 * and JSON that does not fit at all is reported, not thrown.
 */
import { z } from 'zod';
import { barChart, distributionChart, fmt, type DistributionRow } from './svg.js';

/** One benchmark's outcome as the runner saved it. */
export interface BenchEntry {
  readonly name: string;
  /** What the bench printed, or a failure record ({@link FailureRecord}). */
  readonly json: unknown;
  readonly seconds?: number | undefined;
  readonly args?: readonly string[] | undefined;
}

export interface RunInfo {
  /** ISO time the run started. */
  readonly started?: string | undefined;
  /** `default` or `quick` (small sizes: a smoke test). */
  readonly mode?: string | undefined;
}

export interface RenderedReport {
  readonly markdown: string;
  /** SVG files to write next to the Markdown, by file name. */
  readonly files: readonly { readonly name: string; readonly content: string }[];
}

/** What the runner saves for a bench that did not print its JSON. */
export const FailureRecord = z.object({
  bench: z.string(),
  failed: z.literal(true),
  exitCode: z.number().nullable().optional(),
  signal: z.string().nullable().optional(),
  reason: z.string().optional(),
  stderrTail: z.array(z.string()).optional(),
});
export type FailureRecord = z.infer<typeof FailureRecord>;

// ---- lenient schemas of what the report reads -------------------------------------------------

const N = z.number().nullable().optional();
const Pct = z.looseObject({ p50Ms: N, p99Ms: N, maxMs: N, n: N }).optional();
const Samples = z.array(z.number().nullable()).optional();
const Targets = z.record(z.string(), z.unknown()).optional();
const Machine = z.looseObject({ cpus: N, node: z.string().optional(), kernel: z.string().optional(), kubernetes: z.string().optional() }).optional();

const ControllerJson = z.looseObject({
  services: N,
  allocate: z.looseObject({ seconds: N, servicesPerSecond: N, spawnToCachesSyncedSeconds: N }).optional(),
  ceiling: z.looseObject({ seconds: N, servicesPerSecond: N, client: z.string().optional() }).optional(),
  ratioToCeiling: N,
  createToStatus: z.looseObject({ p50Ms: N, p99Ms: N, maxMs: N, samples: N }).optional(),
  peakRssMiB: N,
  restart: z.looseObject({ services: N, secondsUntilReconciled: N, ipChangesSeenInWatch: N, ipChangesInFinalList: N }).optional(),
  targets: Targets,
  machine: Machine,
});

const Failover = z.looseObject({ p50Ms: N, p99Ms: N, maxMs: N, samples: Samples, timedOut: N }).optional();
const L2Json = z.looseObject({
  nodes: N,
  trials: N,
  sigkill: Failover,
  linkCut: Failover,
  handoff: z.looseObject({ lostReplies: z.looseObject({ p50: N, p99: N, max: N, total: N }).optional(), switch: Pct, maxConsecutiveLost: N }).optional(),
  createToGratuitousArp: Failover,
  targets: Targets,
  meetsTargets: z.record(z.string(), z.boolean()).optional(),
  machine: Machine,
});

const BgpSide = z.looseObject({ learnMs: Pct, samplesMs: Samples }).optional();
const BgpJson = z.looseObject({
  prefixLearning: z.looseObject({ prefixes: N, trials: N, perRouter: z.record(z.string(), z.looseObject({ herald: BgpSide, gobgpd: BgpSide, learnRatioP50: N })).optional() }).optional(),
  statusToUpdate: Pct,
  bfdLinkCut: Pct,
  fuzz: z.looseObject({ messages: N, uncaught: N, messagesPerSecond: N }).optional(),
  targets: Targets,
  meetsTargets: z.looseObject({ learnRatio: z.record(z.string(), z.boolean()).optional() }).optional(),
  machine: Machine,
});

const ColdJson = z.looseObject({
  services: N,
  coldStart: z.looseObject({ seconds: N, spawnToCachesSyncedSeconds: N, cachesSyncedToReconciledSeconds: N, servicesReconciled: N }).optional(),
  ipChanges: z.looseObject({ total: N }).optional(),
  peakRssMiB: N,
  cpuSeconds: z.looseObject({ controller: N }).optional(),
  ceiling: z.looseObject({ listSecondsP50: N, items: N }).optional(),
  targets: Targets,
  machine: Machine,
});

const Win = z.looseObject({ cpuPercent: N, cpuSeconds: N, rssMiB: N, hwmMiB: N }).optional();
const LoadJson = z.looseObject({
  services: N,
  nodes: N,
  idleSeconds: N,
  total: z
    .looseObject({
      ownedIps: N,
      rssMiB: z.looseObject({ baseline: N, loaded: N }).optional(),
      rssGrowthPerOwnedIpKiB: N,
      peakHwmMiB: N,
      heapUsedMiB: z.looseObject({ baseline: N, loaded: N }).optional(),
      idleCpuPercent: z.looseObject({ baseline: N, loaded: N }).optional(),
      rampUp: z.looseObject({ seconds: N, cpuSeconds: N, cpuMsPerOwnedIp: N }).optional(),
    })
    .optional(),
  perNode: z.array(z.looseObject({ node: z.string(), ownedIps: N, baseline: Win, rampUp: Win, loaded: Win })).optional(),
  spotCheck: z.looseObject({ asked: N, answeredByOwnerOnly: N }).optional(),
  targets: Targets,
  meetsTargets: z.record(z.string(), z.boolean()).optional(),
  machine: Machine,
});

const FloodSide = z
  .looseObject({
    sent: N,
    answered: N,
    answeredFraction: N,
    latencyMs: z.looseObject({ p50: N, p90: N, p99: N, max: N }).optional(),
    ownerSpeaker: z.looseObject({ cpuPercent: N, answeredDelta: N }).optional(),
  })
  .optional();
const FloodJson = z.looseObject({ rate: N, seconds: N, owner: z.string().optional(), speaker: FloodSide, kernel: FloodSide, targets: Targets, machine: Machine });

// ---- helpers ----------------------------------------------------------------------------------

type Num = number | null | undefined;
const ok = (v: Num): v is number => typeof v === 'number' && Number.isFinite(v);
/** A value with its unit, or `–` when it was not measured. */
/** A fraction as a percentage with two decimals (99.97%), or `–`. */
const pct = (v: Num): string => (ok(v) ? `${(v * 100).toFixed(2).replace(/\.00$/, '')}%` : '–');
const u = (v: Num, unit = ''): string => (ok(v) ? `${fmt(v)}${unit === '' ? '' : unit.startsWith('%') ? unit : ` ${unit}`}` : '–');

/**
 * Whether `value` meets a target written as the benches write them: a number (an upper bound),
 * or text starting with a comparison (`>= 0.8`, `< 100`, `<= 15 with 0 changes`).
 */
export function meetsTarget(value: Num, target: unknown): boolean | undefined {
  if (!ok(value)) return undefined;
  if (typeof target === 'number') return value <= target;
  if (typeof target !== 'string') return undefined;
  const m = /^\s*(<=|>=|<|>|=|≤|≥)?\s*(-?[\d.,]+)/.exec(target);
  if (!m?.[2]) return undefined;
  const t = Number(m[2].replace(/,/g, ''));
  switch (m[1]) {
    case '>=':
    case '≥':
      return value >= t;
    case '>':
      return value > t;
    case '<':
      return value < t;
    case '=':
      return value === t;
    default:
      return value <= t;
  }
}

/** The number in a target (`<= 15 with 0 changes` -> 15). */
export function targetNumber(target: unknown): number | undefined {
  if (typeof target === 'number') return target;
  const m = typeof target === 'string' ? /-?[\d.]+/.exec(target.replace(/,/g, '')) : null;
  return m ? Number(m[0]) : undefined;
}

interface Row {
  readonly figure: string;
  readonly herald: string;
  /** What it was compared with in the same run, named; or why nothing was. */
  readonly comparison: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

interface Figure {
  readonly file: string;
  readonly svg: string;
  /** States what the figure compares against, in the same run. */
  readonly caption: string;
}

interface Section {
  readonly title: string;
  readonly intro: string;
  readonly rows: readonly Row[];
  readonly figures: readonly Figure[];
}

const NO_PEER = 'none in this bench: target only';
const all = (...b: (boolean | undefined)[]): boolean | undefined => (b.some((x) => x === undefined) ? undefined : b.every(Boolean));

// ---- one section per bench --------------------------------------------------------------------

function controllerSection(j: z.infer<typeof ControllerJson>): Section {
  const t = j.targets ?? {};
  const a = j.allocate ?? {};
  const c = j.ceiling ?? {};
  const r = j.restart ?? {};
  const changes = ok(r.ipChangesSeenInWatch) || ok(r.ipChangesInFinalList) ? (r.ipChangesSeenInWatch ?? 0) + (r.ipChangesInFinalList ?? 0) : undefined;
  const ratioT = String(t['ratioToCeiling'] ?? '>= 0.8');
  const restartT = String(t['restartSeconds'] ?? '<= 15 with 0 changes');
  return {
    title: 'controller: IP allocation',
    intro: `${u(j.services)} waiting Services allocated by a freshly started controller, against a bare client writing the same statuses (the API server ceiling) in the same run.`,
    rows: [
      {
        figure: 'Allocation throughput',
        herald: `${u(a.servicesPerSecond, 'Services/s')} (${u(a.seconds, 's')})`,
        comparison: `API server ceiling measured in the same run: ${u(c.servicesPerSecond, 'Services/s')}; ratio ${u(j.ratioToCeiling)}`,
        target: `ratio ${ratioT}`,
        met: meetsTarget(j.ratioToCeiling, ratioT),
      },
      { figure: 'Create → IP in status, p99', herald: `${u(j.createToStatus?.p99Ms, 'ms')} (p50 ${u(j.createToStatus?.p50Ms, 'ms')})`, comparison: NO_PEER, target: `${String(t['createToStatusP99Ms'] ?? '< 100')} ms`, met: meetsTarget(j.createToStatus?.p99Ms, t['createToStatusP99Ms'] ?? '< 100') },
      { figure: 'Controller peak RSS', herald: u(j.peakRssMiB, 'MiB'), comparison: NO_PEER, target: `${String(t['peakRssMiB'] ?? '<= 200')} MiB`, met: meetsTarget(j.peakRssMiB, t['peakRssMiB'] ?? '<= 200') },
      { figure: 'Restart with every IP allocated', herald: `${u(r.secondsUntilReconciled, 's')}, ${u(changes)} IP changes`, comparison: NO_PEER, target: restartT.replace(/^([<>=≤≥]*\s*[\d.]+)/, '$1 s'), met: all(meetsTarget(r.secondsUntilReconciled, restartT), ok(changes) ? changes === 0 : undefined) },
    ],
    figures: [
      {
        file: 'controller-throughput.svg',
        caption: `Allocation throughput of Herald's controller vs the API server ceiling measured in the same run (a bare client listing and PUTting the same statuses at the same concurrency).`,
        svg: barChart({
          title: 'Allocation throughput: Herald vs the API server ceiling (same run)',
          unit: 'Services per second (higher is better)',
          series: ['Herald controller', 'API server ceiling (same run)'],
          groups: [{ label: `${u(j.services)} Services`, values: [a.servicesPerSecond, c.servicesPerSecond] }],
          ...(ok(c.servicesPerSecond) ? { target: { value: c.servicesPerSecond * 0.8, label: 'target: 0.8 × ceiling' } } : {}),
        }),
      },
    ],
  };
}

type L2 = z.infer<typeof L2Json>;

function l2Rows(j: L2): Row[] {
  const t = j.targets ?? {};
  const m = j.meetsTargets ?? {};
  const fo = (name: string, f: z.infer<typeof Failover>, key: string): Row => ({
    figure: `${name} failover, p99`,
    herald: `${u(f?.p99Ms, 'ms')} (p50 ${u(f?.p50Ms, 'ms')}, max ${u(f?.maxMs, 'ms')}${ok(f?.timedOut) && f.timedOut > 0 ? `, ${f.timedOut} timed out` : ''})`,
    comparison: NO_PEER,
    target: `<= ${u(t[`${key}P99Ms`] as Num, 'ms')}`,
    met: m[`${key}P99`] ?? meetsTarget(f?.p99Ms, t[`${key}P99Ms`]),
  });
  const h = j.handoff ?? {};
  const cg = j.createToGratuitousArp;
  return [
    fo('SIGKILL', j.sigkill, 'sigkill'),
    fo('Link cut', j.linkCut, 'linkCut'),
    { figure: 'SIGTERM handoff, lost replies (max per trial)', herald: `${u(h.lostReplies?.max)} (switch p99 ${u(h.switch?.p99Ms, 'ms')})`, comparison: NO_PEER, target: `<= ${u(t['handoffLostRepliesMax'] as Num)}`, met: m['handoffLostReplies'] ?? meetsTarget(h.lostReplies?.max, t['handoffLostRepliesMax']) },
    { figure: 'IP in status → first gratuitous ARP, p99', herald: `${u(cg?.p99Ms, 'ms')} (p50 ${u(cg?.p50Ms, 'ms')})`, comparison: NO_PEER, target: `<= ${u(t['createToGratuitousArpP99Ms'] as Num, 'ms')}`, met: m['createToGratuitousArpP99'] ?? meetsTarget(cg?.p99Ms, t['createToGratuitousArpP99Ms']) },
  ];
}

/** A distribution row from per-trial samples (or, without them, the percentiles). */
const distRow = (label: string, f: z.infer<typeof Failover> | z.infer<typeof Pct>): DistributionRow => ({
  label,
  samples: (f as { samples?: (number | null)[] | undefined } | undefined)?.samples ?? undefined,
  p50: f?.p50Ms,
  p99: f?.p99Ms,
  max: f?.maxMs,
});

function l2Figures(j: L2): Figure[] {
  const t = j.targets ?? {};
  const failTarget = (t['sigkillP99Ms'] as Num) ?? 1000;
  const garpTarget = (t['createToGratuitousArpP99Ms'] as Num) ?? 100;
  return [
    {
      file: 'l2-failover-distribution.svg',
      caption: `Failover time per trial (each dot one trial; ticks at p50 and p99; the handoff row shows only p50-p99 and max, as the bench prints no per-trial switch times). Compared with the target of ${u(failTarget, 'ms')}; no peer is measured in the same run.`,
      svg: distributionChart({
        title: 'L2 failover: failure to client following the new owner',
        unit: "ms, from the failure to the client's neighbour entry holding the new owner's MAC",
        rows: [distRow('SIGKILL', j.sigkill), distRow('link cut', j.linkCut), distRow('SIGTERM handoff', j.handoff?.switch)],
        target: { value: failTarget, label: `target p99 ≤ ${fmt(failTarget)} ms` },
      }),
    },
    {
      file: 'l2-announce-distribution.svg',
      caption: `Time from the IP appearing in Service status to the first gratuitous ARP in the client, per trial. Compared with the target of ${u(garpTarget, 'ms')}; no peer is measured in the same run.`,
      svg: distributionChart({
        title: 'New Service: IP in status to first gratuitous ARP',
        unit: 'ms (tcpdump kernel timestamps in the client)',
        rows: [distRow('announce', j.createToGratuitousArp)],
        target: { value: garpTarget, label: `target p99 ≤ ${fmt(garpTarget)} ms` },
      }),
    },
  ];
}

function l2Section(j: L2): Section {
  return {
    title: 'l2-failover: L2 failover and announcement',
    intro: `${u(j.trials)} trials of each on the network-namespace bed (${u(j.nodes)} nodes, real speakers, a Linux client). No peer is measured in this bench: figures are compared with the targets.`,
    rows: l2Rows(j),
    figures: l2Figures(j),
  };
}

const ROUTER_LABEL: Record<string, string> = { frr: 'FRR', bird: 'BIRD', gobgp: 'GoBGP' };

function bgpSection(j: z.infer<typeof BgpJson>): Section {
  const t = j.targets ?? {};
  const pl = j.prefixLearning ?? {};
  const routers = Object.entries(pl.perRouter ?? {});
  const ratioMax = (t['learnRatioMax'] as Num) ?? 1;
  const rows: Row[] = routers.map(([name, r]) => ({
    figure: `Learn ${u(pl.prefixes)} prefixes: ${ROUTER_LABEL[name] ?? name}, p50`,
    herald: u(r.herald?.learnMs?.p50Ms, 'ms'),
    comparison: `gobgpd in the same run: ${u(r.gobgpd?.learnMs?.p50Ms, 'ms')}; ratio ${u(r.learnRatioP50)}`,
    target: `ratio <= ${fmt(ratioMax)}`,
    met: j.meetsTargets?.learnRatio?.[name] ?? meetsTarget(r.learnRatioP50, ratioMax),
  }));
  rows.push(
    { figure: 'Status write → UPDATE on the wire, p99', herald: `${u(j.statusToUpdate?.p99Ms, 'ms')} (p50 ${u(j.statusToUpdate?.p50Ms, 'ms')})`, comparison: NO_PEER, target: `<= ${u(t['statusToUpdateP99Ms'] as Num, 'ms')}`, met: meetsTarget(j.statusToUpdate?.p99Ms, t['statusToUpdateP99Ms']) },
    { figure: 'BFD link cut → route gone from FRR, p99', herald: `${u(j.bfdLinkCut?.p99Ms, 'ms')} (p50 ${u(j.bfdLinkCut?.p50Ms, 'ms')})`, comparison: NO_PEER, target: `<= ${u(t['bfdLinkCutP99Ms'] as Num, 'ms')}`, met: meetsTarget(j.bfdLinkCut?.p99Ms, t['bfdLinkCutP99Ms']) },
    {
      figure: 'Codec fuzz',
      herald: `${u(j.fuzz?.messages)} messages, ${u(j.fuzz?.uncaught)} uncaught`,
      comparison: NO_PEER,
      target: `>= ${u(t['fuzzMessagesMin'] as Num)} messages, ${u(t['fuzzUncaughtMax'] as Num)} uncaught`,
      met: all(meetsTarget(j.fuzz?.messages, `>= ${String(t['fuzzMessagesMin'])}`), meetsTarget(j.fuzz?.uncaught, t['fuzzUncaughtMax'])),
    },
  );
  return {
    title: 'bgp: BGP convergence',
    intro: `${u(pl.prefixes)} /32 prefixes announced to FRR, BIRD and GoBGP by Herald's bgp-speaker-lite and by gobgpd in the same run (${u(pl.trials)} trial${pl.trials === 1 ? '' : 's'} each, alternating), then the real speakers against FRR.`,
    rows,
    figures: [
      {
        file: 'bgp-learn.svg',
        caption: `Time for each router to learn all ${u(pl.prefixes)} prefixes from Herald vs from gobgpd in the same run (bar: p50, whisker: max over ${u(pl.trials)} trials).`,
        svg: barChart({
          title: 'BGP: prefixes learned by each router, Herald vs gobgpd (same run)',
          unit: `ms from Established to all ${u(pl.prefixes)} prefixes counted (lower is better; bar p50, whisker max)`,
          series: ['Herald (bgp-speaker-lite)', 'gobgpd (same run)'],
          groups: routers.map(([name, r]) => ({ label: ROUTER_LABEL[name] ?? name, values: [r.herald?.learnMs?.p50Ms, r.gobgpd?.learnMs?.p50Ms], whiskers: [r.herald?.learnMs?.maxMs, r.gobgpd?.learnMs?.maxMs] })),
        }),
      },
    ],
  };
}

function coldSection(j: z.infer<typeof ColdJson>): Section {
  const t = j.targets ?? {};
  const c = j.coldStart ?? {};
  const list = j.ceiling?.listSecondsP50;
  const coldT = String(t['coldStartSeconds'] ?? '<= 15');
  return {
    title: 'cold-start: controller start with every Service allocated',
    intro: `A new controller process on ${u(j.services)} Services that already hold IPs, against a bare client listing the same Services in the same run (the API server ceiling for reading them).`,
    rows: [
      {
        figure: 'Spawn → fully reconciled',
        herald: `${u(c.seconds, 's')} (caches synced at ${u(c.spawnToCachesSyncedSeconds, 's')})`,
        comparison: `bare LIST of the same ${u(j.ceiling?.items)} Services in the same run: ${u(list, 's')}${ok(list) && ok(c.seconds) ? ` (start = ${fmt(c.seconds / list)} × the list)` : ''}`,
        target: `${coldT} s`,
        met: meetsTarget(c.seconds, coldT),
      },
      { figure: 'IP changes', herald: u(j.ipChanges?.total), comparison: NO_PEER, target: String(t['ipChanges'] ?? 0), met: meetsTarget(j.ipChanges?.total, `= ${String(t['ipChanges'] ?? 0)}`) },
      { figure: 'Controller peak RSS', herald: u(j.peakRssMiB, 'MiB'), comparison: NO_PEER, target: `${String(t['peakRssMiB'] ?? '<= 200')} MiB`, met: meetsTarget(j.peakRssMiB, t['peakRssMiB'] ?? '<= 200') },
      { figure: 'Controller CPU for the start', herald: u(j.cpuSeconds?.controller, 's'), comparison: NO_PEER, target: '–', met: undefined },
    ],
    figures: [
      {
        file: 'cold-start.svg',
        caption: `Controller cold start with ${u(j.services)} allocated Services vs a bare client LIST of the same Services measured in the same run; target ${coldT} s.`,
        svg: barChart({
          title: `Cold start with ${u(j.services)} allocated Services vs a bare LIST (same run)`,
          unit: 'seconds from spawn (lower is better)',
          series: ['Herald controller', 'bare client LIST (same run)'],
          groups: [
            { label: 'caches synced', values: [c.spawnToCachesSyncedSeconds, undefined] },
            { label: 'fully reconciled', values: [c.seconds, undefined] },
            { label: 'LIST all Services', values: [undefined, list] },
          ],
          ...(ok(targetNumber(coldT)) ? { target: { value: targetNumber(coldT) ?? 0, label: `target ${coldT} s` } } : {}),
        }),
      },
    ],
  };
}

function loadSection(j: z.infer<typeof LoadJson>): Section {
  const t = j.total ?? {};
  const m = j.meetsTargets ?? {};
  const targets = j.targets ?? {};
  const nodes = j.perNode ?? [];
  const base = 'the same speakers with 0 Services in the same run';
  return {
    title: `speaker-load: speakers with ${u(j.services)} announced IPs`,
    intro: `${u(j.services)} IPv4 Services announced by L2 from ${u(j.nodes)} real speakers (IPs split by owner election), against the same speaker processes idle with no Service, measured earlier in the same run (${u(j.idleSeconds, 's')} windows).`,
    rows: [
      { figure: 'RSS growth per owned IP', herald: `${u(t.rssGrowthPerOwnedIpKiB, 'KiB')} (all speakers: ${u(t.rssMiB?.loaded, 'MiB')} RSS)`, comparison: `${base}: ${u(t.rssMiB?.baseline, 'MiB')}`, target: '–', met: undefined },
      { figure: 'V8 heap in use, all speakers', herald: u(t.heapUsedMiB?.loaded, 'MiB'), comparison: `${base}: ${u(t.heapUsedMiB?.baseline, 'MiB')}`, target: '–', met: undefined },
      { figure: 'Peak RSS (VmHWM), any speaker', herald: u(t.peakHwmMiB, 'MiB'), comparison: NO_PEER, target: String(targets['peakRssMiB'] ?? '–'), met: m['peakRss'] },
      { figure: 'Idle CPU, all speakers', herald: u(t.idleCpuPercent?.loaded, '% of a core'), comparison: `${base}: ${u(t.idleCpuPercent?.baseline, '% of a core')}`, target: String(targets['loadedIdleCpuPercent'] ?? '–'), met: m['loadedIdleCpu'] },
      { figure: 'Ramp-up to all IPs announced', herald: `${u(t.rampUp?.seconds, 's')}, ${u(t.rampUp?.cpuMsPerOwnedIp, 'ms')} CPU per IP`, comparison: NO_PEER, target: '–', met: undefined },
      { figure: 'Spot check (arping from the client)', herald: `${u(j.spotCheck?.answeredByOwnerOnly)}/${u(j.spotCheck?.asked)} answered by the owner only`, comparison: NO_PEER, target: 'all', met: m['spotCheck'] },
    ],
    figures: [
      {
        file: 'speaker-load-rss.svg',
        caption: `Speaker resident memory per node with ${u(j.services)} IPs announced vs ${base}.`,
        svg: barChart({
          title: `Speaker RSS with ${u(j.services)} announced IPs vs 0 Services (same run)`,
          unit: 'MiB, VmRSS averaged over the idle window',
          series: [`${u(j.services)} Services`, '0 Services (same run)'],
          groups: nodes.map((n) => ({ label: `${n.node} (${u(n.ownedIps)} IPs)`, values: [n.loaded?.rssMiB, n.baseline?.rssMiB] })),
        }),
      },
      {
        file: 'speaker-load-cpu.svg',
        caption: `Speaker CPU per node, idle with ${u(j.services)} IPs announced and during the ramp-up, vs ${base}.`,
        svg: barChart({
          title: `Speaker CPU with ${u(j.services)} announced IPs vs 0 Services (same run)`,
          unit: '% of one core over the window',
          series: [`idle, ${u(j.services)} Services`, 'idle, 0 Services (same run)', 'ramp-up'],
          groups: nodes.map((n) => ({ label: `${n.node} (${u(n.ownedIps)} IPs)`, values: [n.loaded?.cpuPercent, n.baseline?.cpuPercent, n.rampUp?.cpuPercent] })),
        }),
      },
    ],
  };
}

function floodSection(j: z.infer<typeof FloodJson>): Section {
  const s = j.speaker ?? {};
  const k = j.kernel ?? {};
  const t = j.targets ?? {};
  const kernel = "the node's kernel answering for its own address in the same run";
  const lat = (p: 'p50' | 'p99' | 'max', target: string): Row => ({
    figure: `Answer latency, ${p}`,
    herald: u(s.latencyMs?.[p], 'ms'),
    comparison: `${kernel}: ${u(k.latencyMs?.[p], 'ms')}`,
    target,
    met: target === '–' ? undefined : meetsTarget(s.latencyMs?.[p], target),
  });
  const p99T = String(t['p99Ms'] ?? '–');
  const fracT = String(t['answeredFraction'] ?? '–');
  return {
    title: 'arp-flood: ARP answers under a flood',
    intro: `${u(j.rate)} broadcast ARP requests per second for ${u(j.seconds, 's')} from the client for one Service IP, answered by its owner's speaker (${j.owner ?? '?'}), then the same flood for that node's own address, answered by its Linux kernel (the physical ceiling), in the same run.${t['origin'] ? ` Targets: ${String(t['origin'])}.` : ''}`,
    rows: [
      lat('p50', '–'),
      lat('p99', p99T === '–' ? '–' : `${p99T} ms`),
      lat('max', '–'),
      { figure: 'Requests answered', herald: `${pct(s.answeredFraction)} (${u(s.answered)}/${u(s.sent)})`, comparison: `${kernel}: ${pct(k.answeredFraction)}`, target: fracT, met: fracT === '–' ? undefined : meetsTarget(s.answeredFraction, fracT) },
      { figure: "Owner's speaker CPU during the flood", herald: u(s.ownerSpeaker?.cpuPercent, '% of a core'), comparison: `the same speaker while the kernel answered (it ignores those requests): ${u(k.ownerSpeaker?.cpuPercent, '% of a core')}`, target: '–', met: undefined },
      { figure: 'Replies the speaker counted', herald: u(s.ownerSpeaker?.answeredDelta), comparison: NO_PEER, target: '–', met: undefined },
    ],
    figures: [
      {
        file: 'arp-flood-latency.svg',
        caption: `ARP request-to-reply latency in the client under ${u(j.rate)} requests/s: Herald's speaker vs ${kernel}.`,
        svg: barChart({
          title: `ARP answer latency at ${u(j.rate)}/s: speaker vs Linux kernel (same run)`,
          unit: 'ms from request sent to reply received in the client (lower is better)',
          series: ['Herald speaker', 'Linux kernel, own address (same run)'],
          groups: (['p50', 'p90', 'p99'] as const).map((p) => ({ label: p, values: [s.latencyMs?.[p], k.latencyMs?.[p]] })),
        }),
      },
    ],
  };
}

// ---- assembly ---------------------------------------------------------------------------------

const SECTIONS: Record<string, (json: unknown) => Section> = {
  controller: (x) => controllerSection(ControllerJson.parse(x)),
  'l2-failover': (x) => l2Section(L2Json.parse(x)),
  bgp: (x) => bgpSection(BgpJson.parse(x)),
  'cold-start': (x) => coldSection(ColdJson.parse(x)),
  'speaker-load': (x) => loadSection(LoadJson.parse(x)),
  'arp-flood': (x) => floodSection(FloodJson.parse(x)),
};

/** The chart's accessible name (its title), as Markdown alternative text. */
function altText(svg: string): string {
  const label = /aria-label="([^"]*)"/.exec(svg)?.[1] ?? 'chart';
  return label.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/[[\]]/g, '');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const metText = (m: boolean | undefined): string => (m === undefined ? '–' : m ? 'yes' : '**no**');

function tableOf(rows: readonly Row[]): string[] {
  return ['| Figure | Herald | Same-run comparison | Target | Met |', '|---|---|---|---|---|', ...rows.map((r) => `| ${cell(r.figure)} | ${cell(r.herald)} | ${cell(r.comparison)} | ${cell(r.target)} | ${metText(r.met)} |`)];
}

function failureLines(e: BenchEntry, f: FailureRecord): string[] {
  const how = f.reason ?? (f.signal ? `killed by ${f.signal}` : `exit code ${f.exitCode ?? '?'}`);
  const tail = f.stderrTail ?? [];
  return [`## ${e.name}: FAILED`, '', `${how}${e.seconds === undefined ? '' : ` after ${fmt(e.seconds)} s`}. Last lines of its stderr:`, '', '```text', ...(tail.length > 0 ? tail : ['(none)']), '```', ''];
}

function machineLine(entries: readonly BenchEntry[]): string | undefined {
  for (const e of entries) {
    const m = Machine.safeParse((e.json as { machine?: unknown } | null)?.machine);
    if (m.success && m.data) {
      const d = m.data;
      return [ok(d.cpus) ? `${d.cpus} CPUs` : undefined, d.kernel ? `Linux ${d.kernel}` : undefined, d.node ? `Node ${d.node}` : undefined, d.kubernetes ? `Kubernetes ${d.kubernetes}` : undefined].filter(Boolean).join(', ');
    }
  }
  return undefined;
}

/** Renders the report for the benches' outcomes, in the order given. */
export function renderReport(entries: readonly BenchEntry[], run: RunInfo = {}): RenderedReport {
  const files: { name: string; content: string }[] = [];
  const body: string[] = [];
  const summary: string[] = ['| Benchmark | Outcome | Targets met | Duration | Arguments |', '|---|---|---|---|---|'];
  for (const e of entries) {
    const args = e.args && e.args.length > 0 ? `\`${e.args.join(' ')}\`` : '–';
    const dur = e.seconds === undefined ? '–' : `${fmt(e.seconds)} s`;
    const failure = FailureRecord.safeParse(e.json);
    if (failure.success) {
      summary.push(`| [${e.name}](#${anchor(`${e.name}: FAILED`)}) | **failed** | – | ${dur} | ${args} |`);
      body.push(...failureLines(e, failure.data));
      continue;
    }
    const make = SECTIONS[e.name];
    let section: Section;
    try {
      section = make ? make(e.json) : genericSection(e.name, e.json);
    } catch (err) {
      summary.push(`| ${e.name} | unreadable JSON | – | ${dur} | ${args} |`);
      body.push(`## ${e.name}: unreadable JSON`, '', `The saved JSON does not have the shape this report reads: ${cell(err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err))}`, '');
      continue;
    }
    const judged = section.rows.filter((r) => r.met !== undefined);
    const met = judged.filter((r) => r.met).length;
    summary.push(`| [${e.name}](#${anchor(section.title)}) | ok | ${judged.length === 0 ? '–' : `${met}/${judged.length}`} | ${dur} | ${args} |`);
    body.push(`## ${section.title}`, '', section.intro, '', ...tableOf(section.rows), '');
    for (const f of section.figures) {
      files.push({ name: f.file, content: f.svg });
      body.push(`![${altText(f.svg)}](${f.file})`, '', `*${f.caption}*`, '');
    }
  }
  const head = ['# Herald benchmark report', ''];
  const meta = [run.started ? `Run started ${run.started}` : undefined, run.mode ? `mode **${run.mode}**${run.mode === 'quick' ? ' (small sizes: a smoke test, not figures to quote)' : ''}` : undefined, machineLine(entries)].filter(Boolean);
  if (meta.length > 0) head.push(`${meta.join('; ')}.`, '');
  head.push('Every comparison below was measured in the same run as the figure it qualifies, on the same machine. "Met" compares with the project targets each bench prints.', '');
  return { markdown: [...head, ...summary, '', ...body].join('\n').replace(/\n{3,}/g, '\n\n'), files };
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');
}

/** A bench the report has no layout for: its top-level numbers. */
function genericSection(name: string, json: unknown): Section {
  const obj = z.record(z.string(), z.unknown()).parse(json);
  const rows: Row[] = Object.entries(obj)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => ({ figure: k, herald: fmt(v as number), comparison: '–', target: '–', met: undefined }));
  return { title: name, intro: 'No report layout for this benchmark: its top-level figures.', rows, figures: [] };
}
