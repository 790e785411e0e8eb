/**
 * Fault 2: the speaker owning a Service IP is SIGKILLed, again and again, while the client
 * sends it a TCP probe every 10 ms. Each kill is a node crash as far as the data plane goes:
 * the node stops serving the IP at the same moment (its kube-proxy-like DNAT is removed),
 * so traffic flows again only once the client's neighbour entry holds the new owner's MAC.
 * Between kills the node comes back (DNAT, then its speaker) and rejoins.
 *
 * Checked: every kill fails over; the longest time between two answered probes over the
 * whole run stays under the failover target (1 s); and, from a capture in the client of
 * ARP replies to a prober asking every 50 ms (from a MAC and IP of its own, so the client's
 * kernel never sees the answers) plus gratuitous ARPs, two nodes never answered for the IP
 * at the same time for as long as the failover target.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { startPinger, type Ping } from '@herald/lab';
import { startBed, type Bed } from '@herald/speaker/testbed';
import { ArpCapture, doubleAnswers } from './arp.js';
import { FAILOVER_TARGET_MS, longestGap } from './probes.js';
import { Checks, disposeLogs, errorText, now, report, round, silent, sleep, summary, type FaultReport, type Log, type Size } from './report.js';


export interface OwnerKillParams {
  readonly nodes: number;
  readonly kills: number;
  /** After a killed node's speaker is back: the owner must be stable this long before the next kill. */
  readonly settleMs: number;
}

export const OWNER_KILL_SIZES: Record<Size, OwnerKillParams> = {
  ci: { nodes: 3, kills: 4, settleMs: 1_500 },
  long: { nodes: 4, kills: 20, settleMs: 2_000 },
};

const PROBER_MAC = '02:30:00:00:fe:01';
const PROBER_IP = '192.0.2.251';
const PROBE_INTERVAL_MS = 10;
const PROBE_TIMEOUT_MS = 100;
/** The ARP prober asks every 50 ms; a node silent for 6 of its requests has stopped answering. */
const ARP_INTERVAL_S = '0.05';
const SPAN_GAP_MS = 300;

interface KillResult {
  readonly killed: string;
  readonly next: string | undefined;
  /** From the last answered probe before the kill to the first answered after it. */
  readonly gapMs: number;
  /** From the kill to the first probe answered by the new owner. */
  readonly killToServedMs: number;
  /** From the kill to the new owner in ServiceL2Status (polled). */
  readonly killToStatusMs: number;
}

/** The one owner of `svc`, unchanged for `holdMs`, which the client's probes also reach. */
async function settledOwner(bed: Bed, svc: string, pings: () => readonly Ping[], holdMs: number, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let cur: string | undefined;
  let since = Date.now();
  for (;;) {
    const nodes = await bed.l2Nodes(svc);
    const o = nodes.length === 1 ? bed.hostOf(nodes[0] ?? '') : undefined;
    if (o !== cur) {
      cur = o;
      since = Date.now();
    }
    const last = [...pings()].reverse().find((p) => p.ok);
    if (o !== undefined && Date.now() - since >= holdMs && last?.node === o && Date.now() - last.t < 200) return o;
    if (Date.now() > deadline) throw new Error(`${svc}: no settled owner after ${timeoutMs} ms (ServiceL2Status: ${JSON.stringify(nodes)}, last answered probe from ${last?.node ?? 'none'})`);
    await sleep(100);
  }
}

async function killOnce(bed: Bed, svc: string, ip: string, pings: () => readonly Ping[]): Promise<KillResult> {
  const owner = await settledOwner(bed, svc, pings, 0);
  const t0 = Date.now();
  // A node crash: the speaker dies and the node stops serving the IP at the same moment.
  await Promise.all([bed.stopSpeaker(owner, 'SIGKILL'), bed.lab.undnat(owner, ip)]);
  let next: string | undefined;
  let killToStatusMs = Number.POSITIVE_INFINITY;
  try {
    next = await bed.owner(svc, owner, 10_000);
    killToStatusMs = Date.now() - t0;
  } catch {
    // reported below as a kill without failover
  }
  const deadline = Date.now() + 10_000;
  let served: Ping | undefined;
  while (Date.now() < deadline && served === undefined) {
    served = pings().find((p) => p.ok && p.t >= t0 && p.node !== owner);
    if (served === undefined) await sleep(50);
  }
  const before = pings().filter((p) => p.ok && p.t < t0).reduce((m, p) => Math.max(m, p.t), 0);
  const after = served?.t ?? Number.POSITIVE_INFINITY;
  return { killed: owner, next, gapMs: after - before, killToServedMs: after - t0, killToStatusMs };
}

/** Runs fault 2 at `size` and reports; the bed is destroyed whatever happens. */
export async function runL2OwnerKill(size: Size, opts: { log?: Log; params?: Partial<OwnerKillParams> } = {}): Promise<FaultReport> {
  const p: OwnerKillParams = { ...OWNER_KILL_SIZES[size], ...opts.params };
  const log = opts.log ?? silent;
  const started = Date.now();
  const checks = new Checks();
  const measured: Record<string, unknown> = {};
  let bed: Bed | undefined;
  let capture: ArpCapture | undefined;
  let prober: ChildProcess | undefined;
  let pinger: Awaited<ReturnType<typeof startPinger>> | undefined;
  try {
    bed = await startBed({ nodes: p.nodes, pool: ['192.0.2.100-192.0.2.109'], prefix: `fk${randomBytes(3).toString('hex')}` });
    log(`bed ${bed.ns} (${p.nodes} nodes); logs in ${bed.logDir}`);
    await bed.startSpeakers();
    const svc = await bed.createService('web');
    const [ip] = await bed.ips(svc);
    if (ip === undefined) throw new Error('no IP for web');
    await bed.serve(ip);
    capture = await ArpCapture.start(bed.lab, 'client');
    prober = bed.lab.spawn('client', 'arping', ['-i', 'eth0', '-s', PROBER_MAC, '-S', PROBER_IP, '-p', '-q', '-W', ARP_INTERVAL_S, ip], { stdio: 'ignore' });
    pinger = await startPinger(bed.lab, 'client', ip, { intervalMs: PROBE_INTERVAL_MS, timeoutMs: PROBE_TIMEOUT_MS });
    const pings = (): readonly Ping[] => pinger?.results() ?? [];
    const tStart = now();
    await settledOwner(bed, svc, pings, p.settleMs);

    const kills: KillResult[] = [];
    for (let k = 0; k < p.kills; k++) {
      const r = await killOnce(bed, svc, ip, pings);
      kills.push(r);
      log(`kill ${k + 1}/${p.kills}: ${r.killed} -> ${r.next ?? '?'}: gap ${round(r.gapMs)} ms (kill to served ${round(r.killToServedMs)} ms, to status ${round(r.killToStatusMs)} ms)`);
      // The node comes back: it serves again first, then its speaker starts and rejoins.
      await bed.lab.dnat(r.killed, ip, { port: 80, toPort: 8080 });
      await bed.startSpeaker(r.killed);
      await settledOwner(bed, svc, pings, p.settleMs);
    }
    await sleep(500);
    const all = await pinger.stop();
    prober.kill('SIGTERM');
    const events = await capture.stop();

    const gap = longestGap(all);
    const arp = doubleAnswers(events.filter((e) => e.at >= tStart), ip, PROBER_MAC, SPAN_GAP_MS);
    measured['kills'] = kills.map((r) => ({ ...r, gapMs: round(r.gapMs), killToServedMs: round(r.killToServedMs), killToStatusMs: round(r.killToStatusMs) }));
    measured['gapMs'] = summary(kills.map((r) => r.gapMs));
    measured['killToServedMs'] = summary(kills.map((r) => r.killToServedMs));
    measured['longestGapWholeRun'] = { ms: round(gap.ms), atSecondsIntoRun: round((gap.from - tStart) / 1000, 1) };
    measured['probes'] = { sent: all.length, failed: all.filter((x) => !x.ok).length, intervalMs: PROBE_INTERVAL_MS, timeoutMs: PROBE_TIMEOUT_MS };
    measured['arp'] = {
      proberRequests: arp.requests,
      answeredRequests: arp.answeredRequests,
      doubleAnsweredRequests: arp.doubleAnsweredRequests,
      maxOverlapMs: round(arp.maxOverlapMs, 1),
      overlaps: arp.overlaps.slice(0, 5).map((o) => ({ macs: o.macs, atSecondsIntoRun: round((o.start - tStart) / 1000, 1), ms: round(o.ms, 1) })),
      gratuitous: events.filter((e) => e.kind === 'garp' && e.ip === ip).length,
    };
    checks.add(`all ${p.kills} kills failed over to another node that the client reached`, kills.every((r) => r.next !== undefined && Number.isFinite(r.killToServedMs)), kills.filter((r) => r.next === undefined || !Number.isFinite(r.killToServedMs)));
    checks.add(`the longest gap between answered probes stays under ${FAILOVER_TARGET_MS} ms`, gap.ms < FAILOVER_TARGET_MS, round(gap.ms));
    const slow = kills.filter((r) => r.gapMs >= FAILOVER_TARGET_MS).map((r) => round(r.gapMs));
    checks.add(`every kill: from the last answered probe before it to the first answered by the new owner, under ${FAILOVER_TARGET_MS} ms`, slow.length === 0, slow);
    checks.add('the ARP capture saw the prober asking and the owners answering', arp.requests > 0 && arp.answeredRequests > arp.requests / 2, { requests: arp.requests, answered: arp.answeredRequests });
    checks.add(`two nodes never answered ARP for the IP together for ${FAILOVER_TARGET_MS} ms or more`, arp.maxOverlapMs < FAILOVER_TARGET_MS, measured['arp']);
  } catch (err) {
    checks.add('the fault ran to completion', false, errorText(err));
  } finally {
    prober?.kill('SIGKILL');
    await pinger?.stop().catch(() => undefined);
    await capture?.stop().catch(() => undefined);
    await bed?.destroy();
    disposeLogs(bed?.logDir, checks, measured);
  }
  return report('l2-owner-kill', size, started, { ...p, failoverTargetMs: FAILOVER_TARGET_MS }, measured, checks);
}
