/**
 * Fault 4: garbage at every door a speaker has, while it announces a dual-stack Service over
 * L2 (ARP/NDP) and BGP (to a real BIRD):
 * - the membership port (UDP 7946 on each node): empty, truncated, oversized (up to 64 KiB),
 *   wrong version, forged tag, random datagrams, from the client;
 * - BGP: a scripted peer in a router namespace (a BGPPeer points at it) answers each of the
 *   speakers' connections with another misbehaviour (noise, bad length, bad type, bad version,
 *   a malformed UPDATE, a 256 KiB flood, a truncated message, silence); and TCP 179 on the
 *   nodes themselves (nothing may listen there: the speakers only dial);
 * - malformed ARP and NDP frames from the client through an AF_PACKET socket (short, bad
 *   types and lengths, bad opcode, hop limit 64, bad checksum, bad options, ...), from a
 *   MAC of nobody's, so any answer to them is visible.
 * Checked: every speaker keeps running; the owner keeps answering arping/ndisc6 and the
 * client's probes (longest gap under 1 s); nobody loses membership; the BIRD session never
 * drops and its routes stay; each drop is counted under its reason (membership and L2
 * metrics); every malformed BGP message earns the RFC 4271 NOTIFICATION and the scripted
 * peer's BGPSessionState shows the last error; no malformed frame is answered.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { startPinger, waitFor, type LearnedRoute, type Ping, type Router } from '@herald/lab';
import { GROUP, VERSION } from '@herald/shared/api';
import { startBed, until, type Bed } from '@herald/speaker/testbed';
import { startTcpdump, type Tcpdump } from './arp.js';
import { EXPECTED_NOTIFICATION, JUNK_VARIANTS, unexpected, type JunkConnection } from './bgp-junk.js';
import { UDP_KINDS } from './datagrams.js';
import { garbageFrames, type FrameAddresses } from './frames.js';
import { FAILOVER_TARGET_MS, longestGap } from './probes.js';
import { byLabel, scrape, total, type Sample } from './metrics.js';
import { Checks, disposeLogs, errorText, report, round, silent, sleep, type FaultReport, type Log, type Size } from './report.js';

/** A script of this package's dist/ (the same path from src/ under ts-jest and from dist/). */
const tool = (name: string): string => fileURLToPath(new URL(`../dist/tools/${name}`, import.meta.url));

export interface GarbageParams {
  readonly nodes: number;
  /** Rounds of datagrams (every kind to every node) and of frames (every malformation once). */
  readonly rounds: number;
  readonly roundIntervalMs: number;
  readonly randomFramesPerRound: number;
  /** How long the scripted BGP peer keeps receiving the speakers' connections (at least the garbage's duration). */
  readonly bgpMs: number;
}

export const GARBAGE_SIZES: Record<Size, GarbageParams> = {
  ci: { nodes: 2, rounds: 100, roundIntervalMs: 100, randomFramesPerRound: 4, bgpMs: 18_000 },
  long: { nodes: 3, rounds: 1_200, roundIntervalMs: 50, randomFramesPerRound: 10, bgpMs: 70_000 },
};

const OUR_ASN = 4_200_000_001;
const JUNK_ASN = 64_666;
const GARBAGE_MAC = '02:30:00:00:ee:01';
const POOL = ['192.0.2.100-192.0.2.109', '2001:db8::100-2001:db8::109'];

/** The scripted BGP peer in a router host: its connection reports as they come. */
class JunkPeer {
  readonly connections: JunkConnection[] = [];
  #child: ChildProcess | undefined;

  static async start(bed: Bed, host: string): Promise<JunkPeer> {
    const peer = new JunkPeer();
    const child = bed.lab.spawn(host, process.execPath, [tool('bgp-junk-peer.js'), JSON.stringify({ asn: JUNK_ASN, bgpId: bed.lab.host(host).ipv4 })], { stdio: ['pipe', 'pipe', 'pipe'] });
    peer.#child = child;
    child.stdin?.on('error', () => undefined);
    let listening: (() => void) | undefined;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      try {
        const j = JSON.parse(l) as JunkConnection | { event: string };
        if ('event' in j) listening?.();
        else peer.connections.push(j);
      } catch {
        // not ours
      }
    });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-2_000)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bgp-junk-peer not listening after 10 s: ${err}`)), 10_000);
      listening = () => {
        clearTimeout(timer);
        resolve();
      };
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bgp-junk-peer exited (${code}): ${err}`));
      });
    });
    return peer;
  }

  stop(): void {
    this.#child?.kill('SIGTERM');
  }
}

/** Runs a tool in a lab host to completion and parses the JSON line it prints. */
async function runTool<T>(bed: Bed, host: string, name: string, config: unknown, timeoutMs: number): Promise<T> {
  const r = await bed.lab.exec(host, process.execPath, [tool(name), JSON.stringify(config)], { timeoutMs });
  if (r.status !== 0) throw new Error(`${name} in ${host}: exit ${r.status}: ${r.stderr.slice(-2_000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as T;
}

const delta = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));

/** Lines of a speaker's log with `event` for the BGP peer at `address`. */
function logEvents(bed: Bed, host: string, event: string, address: string): number {
  let text = '';
  try {
    text = readFileSync(join(bed.logDir, `speaker-${host}.log`), 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((l) => l.includes(`"event":"${event}"`) && l.includes(`"peer":"${address}"`)).length;
}

async function sessionStates(bed: Bed): Promise<{ node?: string; peer?: string; bgpStatus?: string; lastError?: string }[]> {
  const list = (await bed.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: bed.ns, plural: 'bgpsessionstates' })) as { items: { status?: { node?: string; peer?: string; bgpStatus?: string; lastError?: string } }[] };
  return list.items.map((i) => i.status ?? {});
}

/**
 * Makes the lab's bridge forward frames the way a switch does. Where br_netfilter is loaded
 * (as on these machines), every new namespace starts with bridge-nf-call-ip6tables=1, and the
 * bridge then validates IPv6 headers itself and silently drops packets with a bad version or
 * payload length before they reach any node: a malformed frame a real LAN would deliver to
 * the speaker never would. The setting is per namespace; only this lab's LAN namespace changes.
 */
async function plainBridge(bed: Bed): Promise<void> {
  for (const s of ['net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-arptables=0']) {
    const r = spawnSync('ip', ['netns', 'exec', bed.lab.lanNs, 'sysctl', '-q', '-w', s], { encoding: 'utf8' });
    // Without br_netfilter the keys do not exist, and the bridge filters nothing anyway.
    if (r.status !== 0 && !/No such file|cannot stat/.test(r.stderr)) throw new Error(`sysctl -w ${s} in ${bed.lab.lanNs}: ${r.stderr}`);
  }
}

const hopsOf = (r: LearnedRoute | undefined): string => [...new Set((r?.paths ?? []).map((p) => p.nextHop))].sort().join(',');

/** What the phases of fault 4 share. */
interface Ctx {
  readonly p: GarbageParams;
  readonly b: Bed;
  readonly checks: Checks;
  readonly measured: Record<string, unknown>;
  readonly bird: Router;
  readonly junk: JunkPeer;
  readonly owner: string;
  readonly ip4: string;
  readonly ip6: string;
  readonly hops4: string;
  readonly v4: (host: string) => string;
}

/** Builds the bed: BIRD and the scripted peer as BGP peers, a dual-stack Service announced over L2 and BGP. */
async function setup(p: GarbageParams, log: Log, held: { bed?: Bed; junk?: JunkPeer }, checks: Checks, measured: Record<string, unknown>): Promise<Ctx> {
  const b = await startBed({ nodes: p.nodes, pool: POOL, routers: ['bird', 'junk'], prefix: `fg${randomBytes(3).toString('hex')}` });
  held.bed = b;
  await plainBridge(b);
  log(`bed ${b.ns} (${p.nodes} nodes, BIRD, a scripted BGP peer); logs in ${b.logDir}`);
  const v4 = (h: string): string => b.lab.host(h).ipv4;
  const junk = await JunkPeer.start(b, 'junk');
  held.junk = junk;
  const bird = await b.startRouter('bird', 'bird', { asn: OUR_ASN, routerId: v4('bird'), neighbors: b.lab.nodes.map((h) => ({ address: v4(h), asn: OUR_ASN })) });
  const common = { myASN: OUR_ASN, dualStackAddressFamily: true, connectTime: '2s' };
  await b.apply('BGPPeer', 'bgppeers', 'bird', { ...common, peerASN: OUR_ASN, peerAddress: v4('bird') });
  await b.apply('BGPPeer', 'bgppeers', 'junk', { ...common, peerASN: JUNK_ASN, peerAddress: v4('junk') });
  await b.apply('BGPAdvertisement', 'bgpadvertisements', 'lab', { ipAddressPools: ['lab'] });
  await b.startSpeakers();
  await b.createService('web', { families: [4, 6] });
  const [ip4, ip6] = await b.ips('web', 2);
  if (ip4 === undefined || ip6 === undefined) throw new Error('web has no dual-stack IPs');
  await b.serve(ip4);
  const hops4 = b.lab.nodes.map(v4).sort().join(',');
  await waitFor('BIRD holds the IPv4 route from every node', async () => (hopsOf((await bird.routes('ipv4')).find((r) => r.prefix === `${ip4}/32`)) === hops4 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
  // Membership first: until every speaker sees every other, the elected owner can still move.
  for (const h of b.lab.nodes) await until(`${h} sees ${p.nodes} members alive`, async () => total(await scrape(b, h), 'herald_membership_members', { state: 'alive' }) === p.nodes, 15_000, 200);
  let owner = await b.owner('web');
  for (const ip of [ip4, ip6]) {
    await until(`${ip} answered by its owner only`, async () => {
      owner = await b.owner('web');
      return JSON.stringify(await b.ask(ip)) === JSON.stringify([b.macOf(owner)]);
    }, 15_000, 200);
  }
  return { p, b, checks, measured, bird, junk, owner, ip4, ip6, hops4, v4 };
}

/** The speakers survived: running, same owner, answering, the client's probes never stalled, no garbage answered. */
async function checkSurvival(c: Ctx, pings: readonly Ping[], answers: readonly string[]): Promise<void> {
  const { b, checks } = c;
  const dead = [...b.speakers].filter(([, ch]) => ch.exitCode !== null || ch.signalCode !== null).map(([h]) => h);
  checks.add('every speaker is still running', dead.length === 0 && b.speakers.size === c.p.nodes, dead);
  const owners = await b.l2Nodes('web');
  checks.add('the owner did not change', JSON.stringify(owners) === JSON.stringify([b.nodeName(c.owner)]), owners);
  const asked = { [c.ip4]: await b.ask(c.ip4), [c.ip6]: await b.ask(c.ip6) };
  checks.add('only the owner answers arping and ndisc6 for the Service IPs', Object.values(asked).every((m) => JSON.stringify(m) === JSON.stringify([b.macOf(c.owner)])), asked);
  const gap = longestGap(pings);
  c.measured['probes'] = { sent: pings.length, failed: pings.filter((x) => !x.ok).length, longestGapMs: round(gap.ms) };
  checks.add(`the client's probes never went unanswered for ${FAILOVER_TARGET_MS} ms`, gap.ms < FAILOVER_TARGET_MS && pings.length > 100, c.measured['probes']);
  checks.add('no malformed frame was answered (nothing sent to the garbage MAC)', answers.length === 0, answers.slice(0, 5));
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, x) => a + x, 0);

/** Every datagram dropped and counted under its reason, on every node; membership intact. */
async function checkMembership(c: Ctx, before: ReadonlyMap<string, Sample[]>, udp: UdpResult): Promise<void> {
  const { b, p, checks } = c;
  const wantUdp: Record<string, number> = {};
  for (const k of UDP_KINDS) if (k.reason !== undefined) wantUdp[k.reason] = (wantUdp[k.reason] ?? 0) + p.rounds;
  const udpTotal = p.rounds * UDP_KINDS.length;
  const membership: Record<string, unknown> = {};
  for (const h of b.lab.nodes) {
    let last: Sample[] = [];
    const dropped = (): Record<string, number> => delta(byLabel(last, 'herald_membership_dropped_total', 'reason'), byLabel(before.get(h) ?? [], 'herald_membership_dropped_total', 'reason'));
    // Counters are copied at scrape time; the last datagrams may still be in flight.
    await until(`${h}: membership drops counted`, async () => {
      last = await scrape(b, h);
      return sum(dropped()) >= udpTotal;
    }, 10_000, 250).catch(() => undefined);
    const got = dropped();
    membership[h] = got;
    const short = Object.entries(wantUdp).filter(([reason, n]) => (got[reason] ?? 0) < n);
    checks.add(`${h}: every malformed membership datagram is dropped and counted by reason`, short.length === 0 && sum(got) >= udpTotal, { sent: udp.sent[`${c.v4(h)}:7946`], want: wantUdp, counted: got });
    const alive = total(last, 'herald_membership_members', { state: 'alive' });
    checks.add(`${h}: still sees all ${p.nodes} members alive`, alive === p.nodes, alive);
  }
  c.measured['membershipDropped'] = membership;
  c.measured['udpSendErrors'] = udp.errors;
}

const l2Drops = (s: readonly Sample[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of s) if (x.name === 'herald_l2_frames_dropped_total') out[`${x.labels['protocol']}/${x.labels['reason']}`] = (out[`${x.labels['protocol']}/${x.labels['reason']}`] ?? 0) + x.value;
  return out;
};

/** Malformed frames dropped and counted under the right reason on the owner (only the owner has sockets open). */
async function checkL2(c: Ctx, before: ReadonlyMap<string, Sample[]>, addresses: FrameAddresses, frames: FramesResult): Promise<void> {
  const wantL2: Record<string, number> = {};
  for (const f of garbageFrames(addresses)) if (f.reason !== undefined) wantL2[`${f.protocol}/${f.reason}`] = (wantL2[`${f.protocol}/${f.reason}`] ?? 0) + (frames.sent[f.kind] ?? 0);
  let l2: Record<string, number> = {};
  await until('owner: L2 drops counted', async () => {
    l2 = delta(l2Drops(await scrape(c.b, c.owner)), l2Drops(before.get(c.owner) ?? []));
    return Object.entries(wantL2).every(([k, n]) => (l2[k] ?? 0) >= n);
  }, 10_000, 250).catch(() => undefined);
  const shortL2 = Object.fromEntries(Object.entries(wantL2).filter(([k, n]) => (l2[k] ?? 0) < n).map(([k, n]) => [k, { sent: n, counted: l2[k] ?? 0 }]));
  c.measured['framesSent'] = frames.sent;
  c.measured['framesDroppedOnOwner'] = l2;
  c.checks.add('the owner drops every malformed ARP/NDP frame and counts it under its reason', Object.keys(shortL2).length === 0 && frames.errors.length === 0, { short: shortL2, sendErrors: frames.errors });
  c.checks.add('random frames are counted too (every frame sent is a drop)', sum(l2) >= sum(frames.sent), { counted: sum(l2), sent: sum(frames.sent) });
}

/** Bad BGP earned NOTIFICATIONs and a lastError; the BIRD session never noticed. */
async function checkBgp(c: Ctx, udp: UdpResult, conns: readonly JunkConnection[]): Promise<void> {
  const { b, checks } = c;
  c.measured['tcp179OnNodes'] = udp.tcp;
  checks.add('nothing listens on TCP 179 on the nodes (garbage there is refused)', Object.values(udp.tcp).every((code) => code === 'ECONNREFUSED'), udp.tcp);
  const byNode: Record<string, Record<string, number>> = {};
  for (const conn of conns) {
    const n = (byNode[conn.remote] ??= {});
    n[conn.variant] = (n[conn.variant] ?? 0) + 1;
  }
  c.measured['bgpJunkConnections'] = { total: conns.length, byNode, notificationsReceived: conns.reduce((a, x) => a + x.notifications.length, 0), variants: JUNK_VARIANTS };
  const few = b.lab.nodes.filter((h) => conns.filter((x) => x.remote === c.v4(h)).length < 4);
  checks.add('each speaker kept redialling the misbehaving peer (at least 4 connections each)', few.length === 0, byNode);
  const wrong = unexpected(conns);
  checks.add('every malformed BGP message earned its RFC 4271 NOTIFICATION', wrong.length === 0 && conns.some((x) => EXPECTED_NOTIFICATION[x.variant] !== undefined), wrong.slice(0, 10));
  const states = await sessionStates(b);
  const junkStates = states.filter((s) => s.peer === c.v4('junk'));
  checks.add("the scripted peer's BGPSessionState shows a lastError and not Established, on every node", junkStates.length === c.p.nodes && junkStates.every((s) => (s.lastError ?? '') !== '' && s.bgpStatus !== 'Established'), junkStates);
  const birdStates = states.filter((s) => s.peer === c.v4('bird'));
  checks.add('the BIRD session stays Established on every node', birdStates.length === c.p.nodes && birdStates.every((s) => s.bgpStatus === 'Established'), birdStates);
  const birdDowns = Object.fromEntries(b.lab.nodes.map((h) => [h, logEvents(b, h, 'bgpDown', c.v4('bird'))]));
  checks.add("the BIRD session never went down (no bgpDown in the speakers' logs)", Object.values(birdDowns).every((n) => n === 0), birdDowns);
  const route = (await c.bird.routes('ipv4')).find((r) => r.prefix === `${c.ip4}/32`);
  checks.add('BIRD still holds the route from every node', hopsOf(route) === c.hops4, hopsOf(route));
  c.measured['junkBgpDownLogged'] = Object.fromEntries(b.lab.nodes.map((h) => [h, logEvents(b, h, 'bgpDown', c.v4('junk'))]));
}

interface UdpResult {
  readonly sent: Record<string, Record<string, number>>;
  readonly tcp: Record<string, string>;
  readonly errors: readonly string[];
}

interface FramesResult {
  readonly sent: Record<string, number>;
  readonly errors: readonly string[];
}

/** Runs fault 4 at `size` and reports; the bed is destroyed whatever happens. */
export async function runGarbage(size: Size, opts: { log?: Log; params?: Partial<GarbageParams> } = {}): Promise<FaultReport> {
  const p: GarbageParams = { ...GARBAGE_SIZES[size], ...opts.params };
  const log = opts.log ?? silent;
  const started = Date.now();
  const checks = new Checks();
  const measured: Record<string, unknown> = {};
  const held: { bed?: Bed; junk?: JunkPeer } = {};
  let dump: Tcpdump | undefined;
  let pinger: Awaited<ReturnType<typeof startPinger>> | undefined;
  try {
    const c = await setup(p, log, held, checks, measured);
    const { b } = c;
    const before = new Map<string, Sample[]>();
    for (const h of b.lab.nodes) before.set(h, await scrape(b, h));
    // Anything sent to the garbage MAC would be an answer to a malformed frame.
    const answers: string[] = [];
    dump = await startTcpdump(b.lab, 'client', `ether dst ${GARBAGE_MAC}`, (l) => {
      if (l.trim() !== '') answers.push(l);
    });
    pinger = await startPinger(b.lab, 'client', c.ip4, { intervalMs: 10, timeoutMs: 100 });
    const connsBefore = c.junk.connections.length;
    const tGarbage = Date.now();
    log(`garbage for ${(p.rounds * p.roundIntervalMs) / 1000} s: datagrams to ${p.nodes} membership ports, frames from the client, a scripted BGP peer`);
    const addresses: FrameAddresses = { srcMac: GARBAGE_MAC, srcIPv4: '192.0.2.252', srcIPv6: '2001:db8::252', targetIPv4: c.ip4, targetIPv6: c.ip6 };
    const budget = p.rounds * p.roundIntervalMs * 3 + 30_000;
    const udpConfig = { targets: b.lab.nodes.map((h) => ({ address: c.v4(h), port: 7946 })), rounds: p.rounds, intervalMs: p.roundIntervalMs, tcp: b.lab.nodes.map((h) => ({ address: c.v4(h), port: 179 })) };
    const frameConfig = { addresses, rounds: p.rounds, randomPerRound: p.randomFramesPerRound, intervalMs: p.roundIntervalMs };
    const [udp, frames] = await Promise.all([runTool<UdpResult>(b, 'client', 'udp-garbage.js', udpConfig, budget), runTool<FramesResult>(b, 'client', 'frame-garbage.js', frameConfig, budget)]);
    const rest = p.bgpMs - (Date.now() - tGarbage);
    if (rest > 0) await sleep(rest);
    measured['garbageSeconds'] = round((Date.now() - tGarbage) / 1000, 1);
    await sleep(1_000);
    const pings = await pinger.stop();
    await dump.stop();
    c.junk.stop();
    await checkSurvival(c, pings, answers);
    await checkMembership(c, before, udp);
    await checkL2(c, before, addresses, frames);
    await checkBgp(c, udp, c.junk.connections.slice(connsBefore));
  } catch (err) {
    checks.add('the fault ran to completion', false, errorText(err));
  } finally {
    held.junk?.stop();
    await pinger?.stop().catch(() => undefined);
    await dump?.stop().catch(() => undefined);
    await held.bed?.destroy();
    disposeLogs(held.bed?.logDir, checks, measured);
  }
  return report('garbage', size, started, { ...p }, measured, checks);
}
