/**
 * SWIM membership and failure detection (Das, Gupta, Motivala, DSN 2002) with the Lifeguard
 * refinements of HashiCorp memberlist (Dadgar et al. 2018): suspicion timeouts that shrink
 * as independent suspicions arrive, the "buddy system" (a ping to a suspect carries the
 * suspicion so it can refute at once), and an optional local health multiplier.
 *
 * Pure: bytes go in through {@link Swim.receive}, bytes come out through the `send`
 * callback, time comes from the injected {@link Clock}. No sockets here; see `udp.ts`.
 * @packageDocumentation
 */
import type { Clock, Logger, TimerHandle } from '@herald/shared/core';
import { HeraldError, silentLogger, sleep } from '@herald/shared/core';
import { parseIP, formatIP } from '@herald/shared/ip';
import {
  MAX_DATAGRAM,
  MAX_NAME_BYTES,
  decode,
  encodeBounded,
  type DropReason,
  type Endpoint,
  type Keys,
  type MemberState,
  type MemberUpdate,
  type Message,
} from './codec.js';

/** Timings and fan-outs. Defaults give detection in well under a second (ADR 0006). */
export interface SwimConfig {
  /** One probe round: a ping, then ping-reqs, then a verdict at the end of the round. */
  readonly probeIntervalMs: number;
  /** Wait for a direct ack before asking others to probe (the indirect window is the rest of the round). */
  readonly probeTimeoutMs: number;
  /** Members asked to probe indirectly (SWIM's k). Also the number of suspicions that shrink the timeout to its minimum. */
  readonly indirectChecks: number;
  /** Suspicion timeout once `indirectChecks` members suspect independently (Lifeguard's min). */
  readonly suspicionMinMs: number;
  /** Suspicion timeout on a single suspicion (Lifeguard's max). */
  readonly suspicionMaxMs: number;
  /** An update is piggybacked `retransmitMult * ceil(log10(n + 1))` times. */
  readonly retransmitMult: number;
  /** Members that get a gossip-only datagram each round while updates are pending. */
  readonly gossipFanout: number;
  /**
   * A timer firing this late means this process was starved: every timer of that stall acts
   * only after pending input is read, and a probe round the stall cut into is not a failure.
   * `Infinity` turns the guard off.
   */
  readonly lateSlackMs: number;
  /** Lifeguard local health: probe interval and timeout scale by (1 + score), score in [0, max]. 0 disables. */
  readonly localHealthMax: number;
  /** `leave()` resolves once its datagrams are sent, or after this long. */
  readonly leaveTimeoutMs: number;
  /** Dead and left members are forgotten after this long. */
  readonly reapAfterMs: number;
  /** Largest datagram produced; at most 1200. */
  readonly maxDatagram: number;
  /** Full state exchange with one random member this often (memberlist's push-pull): repairs views that gossip missed. */
  readonly pushPullIntervalMs: number;
  /**
   * Each dead member (not one that left) is asked for its state this often until it is
   * reaped. A partition shorter than the reap time otherwise never heals: both sides hold
   * the other dead, nobody probes or gossips to the dead, and no Lease changes to trigger a
   * re-join (seen on a real cluster after 3 s and 6 s link flaps). memberlist does the same
   * with its reconnect to dead nodes. 0 turns it off.
   */
  readonly reconnectIntervalMs: number;
}

export const DEFAULT_SWIM_CONFIG: SwimConfig = {
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  indirectChecks: 3,
  suspicionMinMs: 300,
  suspicionMaxMs: 600,
  retransmitMult: 4,
  gossipFanout: 2,
  lateSlackMs: 25,
  localHealthMax: 8,
  leaveTimeoutMs: 200,
  reapAfterMs: 60_000,
  maxDatagram: MAX_DATAGRAM,
  pushPullIntervalMs: 10_000,
  reconnectIntervalMs: 250,
};

/** This speaker: its member name (the node name) and where its UDP socket listens. */
export interface SelfInfo extends Endpoint {
  readonly name: string;
}

/** A member as this speaker sees it. */
export interface Member extends Endpoint {
  readonly name: string;
  readonly incarnation: number;
  readonly state: MemberState;
  /** `clock.now()` when it entered `state`. */
  readonly since: number;
}

/** Why a member changed state: a log field and a metric label. */
export type ChangeReason =
  /** First heard of, alive. */
  | 'joined'
  /** Our own probe and the indirect probes got no ack. */
  | 'probeFailed'
  /** Another member said so. */
  | 'gossip'
  /** Suspected for the whole suspicion timeout with no refutation. */
  | 'suspicionTimeout'
  /** It announced a higher incarnation while suspected or dead. */
  | 'refuted'
  /** It left gracefully. */
  | 'left';

export type ChangeListener = (member: Member, prev: MemberState | undefined, next: MemberState, reason: ChangeReason) => void;

/** Drops beyond the codec's: a ping meant for another member (an address reused by a restart). */
export type SwimDropReason = DropReason | 'wrongTarget';

/** Counters for metrics. Monotonic. */
export interface SwimCounters {
  probesSent: number;
  acksReceived: number;
  acksSent: number;
  indirectProbesSent: number;
  indirectAcksReceived: number;
  probeFailures: number;
  /** Unacked probe rounds not counted as failures because this process was starved during them. */
  probesInconclusive: number;
  suspicions: number;
  deaths: number;
  refutations: number;
  lateTimers: number;
  sendErrors: number;
  received: number;
  dropped: Record<SwimDropReason, number>;
}

export interface SwimOptions {
  readonly self: SelfInfo;
  readonly clock: Clock;
  /** Signing and verification keys; see {@link Keys}. */
  readonly keys: Keys;
  /** Sends one datagram. May return a promise (the UDP driver does); errors are counted, never thrown. */
  readonly send: (to: Endpoint, bytes: Buffer) => void | Promise<void>;
  /** In [0, 1); injectable for deterministic tests. */
  readonly random?: () => number;
  readonly config?: Partial<SwimConfig>;
  readonly log?: Logger;
}

interface MemberRec {
  name: string;
  address: string;
  port: number;
  incarnation: number;
  state: MemberState;
  since: number;
}

interface Suspicion {
  readonly start: number;
  readonly confirmers: Set<string>;
  /** Independent confirmations expected (Lifeguard's K). */
  readonly k: number;
  timer: TimerHandle | undefined;
}

interface Probe {
  readonly target: string;
  readonly seq: number;
  acked: boolean;
  /** This process was starved during the round: its timeouts and indirect window did not hold. */
  starved: boolean;
}

interface Pending {
  readonly expires: number;
  readonly onAck: () => void;
}

interface Queued {
  readonly update: MemberUpdate;
  transmits: number;
}

/** A message before its updates are chosen (Omit distributed over the union). */
type Unsent = Message extends infer M ? (M extends Message ? Omit<M, 'updates'> : never) : never;

const PROBEABLE: ReadonlySet<MemberState> = new Set(['alive', 'suspect']);
const GOSSIP_TYPE: Record<MemberState, 'alive' | 'suspect' | 'dead' | 'leave'> = {
  alive: 'alive',
  suspect: 'suspect',
  dead: 'dead',
  left: 'leave',
};

function validateConfig(c: SwimConfig): void {
  const bad = (why: string): never => {
    throw new HeraldError('InvalidConfig', `membership: ${why}`);
  };
  if (!(c.probeIntervalMs > 0)) bad('probeIntervalMs must be > 0');
  if (!(c.probeTimeoutMs > 0 && c.probeTimeoutMs < c.probeIntervalMs)) bad('probeTimeoutMs must be in (0, probeIntervalMs)');
  if (!(Number.isInteger(c.indirectChecks) && c.indirectChecks >= 0)) bad('indirectChecks must be an integer >= 0');
  if (!(c.suspicionMinMs > 0 && c.suspicionMaxMs >= c.suspicionMinMs)) bad('need 0 < suspicionMinMs <= suspicionMaxMs');
  if (!(c.reconnectIntervalMs >= 0)) bad('reconnectIntervalMs must be >= 0');
  if (!(c.maxDatagram >= 600 && c.maxDatagram <= MAX_DATAGRAM)) bad(`maxDatagram must be in [600, ${MAX_DATAGRAM}]`);
}

/**
 * One speaker's membership view and failure detector. Start it with {@link Swim.join} (or
 * {@link Swim.start} for the first member), feed it every datagram through
 * {@link Swim.receive}, and stop it with {@link Swim.leave} or {@link Swim.stop}.
 */
export class Swim {
  readonly counters: SwimCounters = {
    probesSent: 0,
    acksReceived: 0,
    acksSent: 0,
    indirectProbesSent: 0,
    indirectAcksReceived: 0,
    probeFailures: 0,
    probesInconclusive: 0,
    suspicions: 0,
    deaths: 0,
    refutations: 0,
    lateTimers: 0,
    sendErrors: 0,
    received: 0,
    dropped: { truncated: 0, tooLarge: 0, badVersion: 0, badTag: 0, badType: 0, badField: 0, trailingBytes: 0, wrongTarget: 0 },
  };

  readonly #cfg: SwimConfig;
  readonly #clock: Clock;
  readonly #keys: Keys;
  readonly #sendFn: SwimOptions['send'];
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #self: MemberRec;
  readonly #members = new Map<string, MemberRec>();
  /** Seeds from the last join(), retried until some member answers (a lost join is otherwise final). */
  #seeds: readonly Endpoint[] = [];
  #joinTimer: TimerHandle | undefined;
  #joinDelayMs = 0;
  readonly #suspicions = new Map<string, Suspicion>();
  readonly #queue = new Map<string, Queued>();
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<ChangeListener>();
  #order: string[] = [];
  #orderIdx = 0;
  #seq = 0;
  #probe: Probe | undefined;
  #tickTimer: TimerHandle | undefined;
  #started = false;
  #stopped = false;
  #health = 0;
  /**
   * Timer actions held back since a starved timer was seen, run in order by one later timer
   * (after Node's poll phase has read the input that waited through the stall); undefined
   * while not starved.
   */
  #stalled: (() => void)[] | undefined;
  #lastPushPull = -Infinity;
  /** When we last asked a sender for its state or told it of its death; bounds that traffic. */
  readonly #nudged = new Map<string, number>();
  /** When we last asked each dead member for its state (see #reconnect). */
  readonly #reconnected = new Map<string, number>();

  constructor(opts: SwimOptions) {
    this.#cfg = { ...DEFAULT_SWIM_CONFIG, ...opts.config };
    validateConfig(this.#cfg);
    const ip = parseIP(opts.self.address);
    if (!ip) throw new HeraldError('InvalidConfig', `membership: self address is not an IP: ${opts.self.address}`);
    const nameLen = Buffer.byteLength(opts.self.name, 'utf8');
    if (nameLen === 0 || nameLen > MAX_NAME_BYTES) throw new HeraldError('InvalidConfig', `membership: name must be 1..${MAX_NAME_BYTES} octets`);
    this.#clock = opts.clock;
    this.#keys = opts.keys;
    this.#sendFn = opts.send;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.log ?? silentLogger()).child({ component: 'membership', self: opts.self.name });
    this.#self = { name: opts.self.name, address: formatIP(ip), port: opts.self.port, incarnation: 0, state: 'alive', since: opts.clock.now() };
  }

  /** The current view, this speaker included. */
  members(): Member[] {
    return [this.#snapshot(this.#self), ...[...this.#members.values()].map((m) => this.#snapshot(m))];
  }

  /** One member by name (this speaker included), if known. */
  member(name: string): Member | undefined {
    const m = name === this.#self.name ? this.#self : this.#members.get(name);
    return m && this.#snapshot(m);
  }

  /** Local health score (Lifeguard): 0 is healthy. */
  get localHealth(): number {
    return this.#health;
  }

  /** Calls `cb` on every state change of another member; returns an unsubscribe function. */
  onChange(cb: ChangeListener): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Starts probing. Idempotent. The first tick is at a random phase so members do not probe in lockstep. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#scheduleTick(this.#random() * this.#cfg.probeIntervalMs);
  }

  /**
   * Starts, announces this speaker to `seeds` and asks each for its full state. Safe to call
   * again (the Lease-based discovery does, periodically): it is also how a partition heals.
   */
  join(seeds: readonly Endpoint[]): void {
    this.start();
    if (this.#stopped) return;
    this.#seeds = seeds.filter((to) => !(to.address === this.#self.address && to.port === this.#self.port));
    this.#joinDelayMs = 2 * this.#cfg.probeIntervalMs;
    this.#sendJoin();
  }

  /**
   * Sends the join to every seed, and again with backoff (doubling, capped at 2 s) for as
   * long as this member knows no live member: one lost datagram must not leave a speaker
   * alone for good, and a speaker cut off from everyone finds its way back the same way.
   */
  #sendJoin(): void {
    if (this.#stopped || this.#seeds.length === 0) return;
    for (const to of this.#seeds) {
      void this.#send(to, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: true }, [this.#selfUpdate()]);
    }
    if (this.#joinTimer) this.#clock.clearTimeout(this.#joinTimer);
    this.#joinTimer = this.#clock.setTimeout(() => {
      this.#joinTimer = undefined;
      if ([...this.#members.values()].some((m) => PROBEABLE.has(m.state))) return;
      this.#joinDelayMs = Math.min(2 * this.#joinDelayMs, 2_000);
      this.#sendJoin();
    }, this.#joinDelayMs);
  }

  /**
   * Leaves gracefully: bumps the incarnation, sends `leave` straight to every live member (so
   * all see `left` at once rather than by gossip), then stops. Resolves when the datagrams are
   * sent or after `leaveTimeoutMs`, whichever comes first.
   */
  async leave(): Promise<void> {
    if (this.#stopped) return;
    this.#self.incarnation++;
    this.#self.state = 'left';
    this.#self.since = this.#clock.now();
    const update = this.#selfUpdate();
    const sends: Promise<void>[] = [];
    for (const m of this.#members.values()) {
      if (!PROBEABLE.has(m.state)) continue;
      sends.push(this.#send(m, { type: 'leave', seq: this.#nextSeq(), from: this.#self.name, syncRequest: false }, [update]));
    }
    this.#log.info({ event: 'leave', incarnation: this.#self.incarnation, peers: sends.length });
    await Promise.race([Promise.allSettled(sends), sleep(this.#clock, this.#cfg.leaveTimeoutMs)]);
    this.stop();
  }

  /** Stops all timers and ignores further input. No goodbye: for that, {@link Swim.leave}. */
  stop(): void {
    this.#stopped = true;
    if (this.#tickTimer) this.#clock.clearTimeout(this.#tickTimer);
    if (this.#joinTimer) this.#clock.clearTimeout(this.#joinTimer);
    this.#joinTimer = undefined;
    for (const s of this.#suspicions.values()) if (s.timer) this.#clock.clearTimeout(s.timer);
    this.#suspicions.clear();
    this.#pending.clear();
    this.#probe = undefined;
    this.#stalled = undefined;
  }

  /** Handles one datagram from `from`. Never throws; bad input is counted in `counters.dropped`. */
  receive(from: Endpoint, bytes: Buffer): void {
    if (this.#stopped) return;
    this.counters.received++;
    const r = decode(bytes, this.#keys);
    if (!r.ok) {
      this.counters.dropped[r.reason]++;
      this.#log.debug({ event: 'drop', reason: r.reason, from: `${from.address}:${from.port}` });
      return;
    }
    const msg = r.msg;
    if (msg.from === this.#self.name) return;
    for (const u of msg.updates) this.#apply(u, msg.from, from);
    if (msg.syncRequest) this.#sendState(from);
    else this.#nudge(from, msg.from);
    switch (msg.type) {
      case 'ping':
        if (msg.target !== '' && msg.target !== this.#self.name) {
          this.counters.dropped.wrongTarget++;
          return;
        }
        this.counters.acksSent++;
        this.#send(from, { type: 'ack', seq: msg.seq, from: this.#self.name, syncRequest: false }, []);
        return;
      case 'ack':
        this.#pending.get(msg.seq)?.onAck();
        return;
      case 'indirect-ack':
        this.counters.indirectAcksReceived++;
        this.#pending.get(msg.seq)?.onAck();
        return;
      case 'ping-req':
        this.#relayProbe(from, msg.seq, msg.target, msg.targetEndpoint);
        return;
      default:
        return;
    }
  }

  /**
   * A sender we do not know (its `alive` gossip missed us), suspect or think dead: ask it
   * for its state, which carries its own `alive`, or tell it of its suspicion or death so
   * it refutes. The buddy system only tells a suspect when our own round-robin pings it;
   * a member starved long enough to be suspected speaks to us sooner, and gossip of its
   * refutation can miss us within the suspicion timeout.
   */
  #nudge(from: Endpoint, name: string): void {
    const m = this.#members.get(name);
    if (m && m.state === 'alive') return;
    const now = this.#clock.now();
    if (now - (this.#nudged.get(name) ?? -Infinity) < this.#cfg.probeIntervalMs) return;
    this.#nudged.set(name, now);
    if (!m) this.#send(from, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: true }, [this.#selfUpdate()]);
    else if (m.state === 'suspect' || m.state === 'dead') this.#send(from, { type: GOSSIP_TYPE[m.state], seq: this.#nextSeq(), from: this.#self.name, syncRequest: false }, [this.#updateOf(m, this.#self.name)]);
  }

  // --- probing ---------------------------------------------------------------------------

  #scale(ms: number): number {
    return ms * (1 + this.#health);
  }

  #scheduleTick(ms: number): void {
    this.#tickTimer = this.#timer(() => this.#tick(), ms);
  }

  #tick(): void {
    this.#scheduleTick(this.#scale(this.#cfg.probeIntervalMs));
    this.#finishProbe();
    this.#reap();
    this.#startProbe();
    this.#gossip();
    this.#pushPull();
    this.#reconnect();
  }

  /**
   * Asks dead members for their state (an `alive` with a sync request). A member that is in
   * fact alive answers with its full view, in which we are dead too (each side of a healed
   * partition holds the other dead at the same incarnation, so neither `alive` is news):
   * that rumour makes us refute with a higher incarnation, sent straight back to it, and its
   * own refutation follows from our state. Within a few round trips of the link coming back
   * both views hold each other alive. A member that really is dead costs one datagram per
   * interval until it is reaped.
   */
  #reconnect(): void {
    const every = this.#cfg.reconnectIntervalMs;
    if (every <= 0) return;
    const now = this.#clock.now();
    for (const m of this.#members.values()) {
      if (m.state !== 'dead') continue;
      if (now - (this.#reconnected.get(m.name) ?? m.since) < every) continue;
      this.#reconnected.set(m.name, now);
      this.#send(m, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: true }, [this.#selfUpdate()]);
    }
  }

  #pushPull(): void {
    const now = this.#clock.now();
    if (now - this.#lastPushPull < this.#cfg.pushPullIntervalMs) return;
    for (const m of this.#pick(1, (x) => x.state === 'alive')) {
      this.#lastPushPull = now;
      this.#send(m, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: true }, [this.#selfUpdate()]);
    }
  }

  /** End of a round: the indirect window is over. SWIM 4.1: no ack means suspect. */
  #finishProbe(): void {
    const p = this.#probe;
    this.#probe = undefined;
    if (!p) return;
    this.#pending.delete(p.seq);
    if (p.acked) {
      this.#adjustHealth(-1);
      return;
    }
    const m = this.#members.get(p.target);
    if (!m || !PROBEABLE.has(m.state)) return;
    if (p.starved) {
      // Lifeguard: a member that missed its own deadlines judges itself, not others. The
      // stall ate the probe timeout or the indirect window (the ping-reqs may have gone out
      // just now), so the silence proves nothing: probe the same member again next round.
      this.counters.probesInconclusive++;
      this.#order.splice(this.#orderIdx, 0, m.name);
      return;
    }
    this.counters.probeFailures++;
    this.#suspect(m, m.incarnation, this.#self.name, 'probeFailed');
  }

  #nextTarget(): MemberRec | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.#orderIdx < this.#order.length) {
        const m = this.#members.get(this.#order[this.#orderIdx++] as string);
        if (m && PROBEABLE.has(m.state)) return m;
      }
      // SWIM 4.3: round-robin over a fresh random permutation bounds the time to first probe.
      this.#order = this.#shuffle([...this.#members.keys()]);
      this.#orderIdx = 0;
    }
    return undefined;
  }

  #startProbe(): void {
    const target = this.#nextTarget();
    if (!target) return;
    const probe: Probe = { target: target.name, seq: this.#nextSeq(), acked: false, starved: false };
    this.#probe = probe;
    this.#pending.set(probe.seq, {
      expires: this.#clock.now() + this.#scale(this.#cfg.probeIntervalMs),
      onAck: () => {
        if (!probe.acked) this.counters.acksReceived++;
        probe.acked = true;
      },
    });
    // Lifeguard buddy system: a suspect learns of its suspicion from the ping itself.
    const prefix = target.state === 'suspect' ? [this.#updateOf(target, this.#self.name)] : [];
    this.counters.probesSent++;
    this.#send(target, { type: 'ping', seq: probe.seq, from: this.#self.name, syncRequest: false, target: target.name }, prefix);
    this.#timer(() => this.#indirect(probe), this.#scale(this.#cfg.probeTimeoutMs));
  }

  /** SWIM 4.1: no direct ack within the timeout, so ask k others to probe the target. */
  #indirect(probe: Probe): void {
    if (this.#probe !== probe || probe.acked) return;
    const target = this.#members.get(probe.target);
    if (!target) return;
    const helpers = this.#pick(this.#cfg.indirectChecks, (m) => m.state === 'alive' && m.name !== probe.target);
    for (const h of helpers) {
      this.counters.indirectProbesSent++;
      this.#send(
        h,
        { type: 'ping-req', seq: probe.seq, from: this.#self.name, syncRequest: false, target: target.name, targetEndpoint: { address: target.address, port: target.port } },
        [],
      );
    }
  }

  /** Probe `target` for `requester`, and relay its ack as an indirect-ack carrying the requester's seq. */
  #relayProbe(requester: Endpoint, reqSeq: number, target: string, to: Endpoint): void {
    const seq = this.#nextSeq();
    let done = false;
    this.#pending.set(seq, {
      expires: this.#clock.now() + this.#scale(this.#cfg.probeIntervalMs),
      onAck: () => {
        if (done) return;
        done = true;
        this.#send(requester, { type: 'indirect-ack', seq: reqSeq, from: this.#self.name, syncRequest: false, target }, []);
      },
    });
    this.counters.probesSent++;
    this.#send(to, { type: 'ping', seq, from: this.#self.name, syncRequest: false, target }, []);
  }

  #reap(): void {
    const now = this.#clock.now();
    for (const [seq, p] of this.#pending) if (p.expires < now && seq !== this.#probe?.seq) this.#pending.delete(seq);
    for (const [name, m] of this.#members) {
      if ((m.state === 'dead' || m.state === 'left') && now - m.since > this.#cfg.reapAfterMs) {
        this.#members.delete(name);
        this.#queue.delete(name);
        this.#nudged.delete(name);
        this.#reconnected.delete(name);
      }
    }
  }

  // --- suspicion (Lifeguard) -------------------------------------------------------------

  #suspicionTimeout(s: Suspicion): number {
    const { suspicionMinMs: min, suspicionMaxMs: max } = this.#cfg;
    if (s.k < 1) return min;
    const confirmations = s.confirmers.size - 1;
    // Lifeguard 4.2: timeout falls logarithmically from max to min as independent suspicions arrive.
    const frac = Math.log(confirmations + 1) / Math.log(s.k + 1);
    return Math.max(min, max - (max - min) * frac);
  }

  #armSuspicion(m: MemberRec, s: Suspicion): void {
    if (s.timer) this.#clock.clearTimeout(s.timer);
    const remaining = Math.max(0, s.start + this.#suspicionTimeout(s) - this.#clock.now());
    s.timer = this.#timer(() => {
      if (this.#suspicions.get(m.name) !== s || m.state !== 'suspect') return;
      this.#suspicions.delete(m.name);
      this.counters.deaths++;
      this.#setState(m, 'dead', 'suspicionTimeout');
      this.#enqueue(this.#updateOf(m, this.#self.name));
    }, remaining);
  }

  #suspect(m: MemberRec, incarnation: number, by: string, reason: ChangeReason): void {
    if (m.state === 'dead' || m.state === 'left' || incarnation < m.incarnation) return;
    const existing = this.#suspicions.get(m.name);
    if (m.state === 'suspect' && existing) {
      m.incarnation = Math.max(m.incarnation, incarnation);
      if (existing.confirmers.has(by)) return;
      existing.confirmers.add(by);
      this.#armSuspicion(m, existing);
      this.#enqueue(this.#updateOf(m, by));
      return;
    }
    m.incarnation = incarnation;
    const others = [...this.#members.values()].filter((x) => x.state === 'alive').length - 1;
    const s: Suspicion = { start: this.#clock.now(), confirmers: new Set([by]), k: Math.max(0, Math.min(this.#cfg.indirectChecks, others)), timer: undefined };
    this.#suspicions.set(m.name, s);
    this.counters.suspicions++;
    this.#setState(m, 'suspect', reason);
    this.#armSuspicion(m, s);
    const update = this.#updateOf(m, by);
    this.#enqueue(update);
    // Tell the suspect at once, so a live member refutes within one round trip.
    if (by === this.#self.name) this.#send(m, { type: 'suspect', seq: this.#nextSeq(), from: this.#self.name, syncRequest: false }, [update]);
  }

  // --- updates ---------------------------------------------------------------------------

  #apply(u: MemberUpdate, via: string, sender?: Endpoint): void {
    if (u.name === this.#self.name) {
      this.#applyAboutSelf(u, sender);
      return;
    }
    const m = this.#members.get(u.name);
    if (!m) {
      // Only `alive` introduces a member: a rumour of death about a stranger is not news.
      if (u.state !== 'alive') return;
      const rec: MemberRec = { name: u.name, address: u.address, port: u.port, incarnation: u.incarnation, state: 'alive', since: this.#clock.now() };
      this.#members.set(u.name, rec);
      this.#enqueue(u);
      this.#emit(rec, undefined, 'joined');
      return;
    }
    switch (u.state) {
      case 'alive':
        // SWIM 4.2: only a strictly higher incarnation overrides a suspicion (or a death).
        if (u.incarnation <= m.incarnation) return;
        m.incarnation = u.incarnation;
        m.address = u.address;
        m.port = u.port;
        this.#clearSuspicion(m.name);
        if (m.state !== 'alive') this.#setState(m, 'alive', m.state === 'suspect' ? 'refuted' : 'joined');
        this.#enqueue(u);
        return;
      case 'suspect':
        this.#suspect(m, u.incarnation, u.by === '' ? via : u.by, 'gossip');
        return;
      case 'dead':
        if (u.incarnation < m.incarnation || m.state === 'dead' || m.state === 'left') return;
        m.incarnation = u.incarnation;
        this.#clearSuspicion(m.name);
        this.#setState(m, 'dead', 'gossip');
        this.#enqueue(u);
        return;
      case 'left':
        if (u.incarnation < m.incarnation || m.state === 'left') return;
        m.incarnation = u.incarnation;
        this.#clearSuspicion(m.name);
        this.#setState(m, 'left', 'left');
        this.#enqueue(u);
        return;
    }
  }

  /** SWIM 4.2: an alive member that hears itself suspected (or declared dead) refutes. */
  #applyAboutSelf(u: MemberUpdate, sender?: Endpoint): void {
    if (this.#self.state === 'left') return;
    const stale = u.incarnation < this.#self.incarnation || (u.state === 'alive' && u.incarnation === this.#self.incarnation);
    if (stale) {
      // Someone still believes an old rumour of our death: our current `alive` already
      // refutes it, but gossip may have stopped carrying it, so tell that member directly.
      if (u.state !== 'alive' && sender) this.#send(sender, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: false }, [this.#selfUpdate()]);
      return;
    }
    this.#self.incarnation = u.incarnation + 1;
    this.counters.refutations++;
    this.#adjustHealth(+1);
    this.#log.info({ event: 'refute', heard: u.state, by: u.by, incarnation: this.#self.incarnation });
    this.#enqueue(this.#selfUpdate());
    // Push the refutation now rather than waiting for the next round's piggyback.
    for (const m of this.#pick(this.#cfg.gossipFanout + 1, (x) => PROBEABLE.has(x.state))) {
      this.#send(m, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: false }, [this.#selfUpdate()]);
    }
    // And straight back to whoever said it: after a partition, the members that declared us
    // dead are the ones we ourselves think dead, so gossip to "live" members never reaches them.
    if (sender) this.#send(sender, { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: true }, [this.#selfUpdate()]);
  }

  #clearSuspicion(name: string): void {
    const s = this.#suspicions.get(name);
    if (!s) return;
    if (s.timer) this.#clock.clearTimeout(s.timer);
    this.#suspicions.delete(name);
  }

  #setState(m: MemberRec, next: MemberState, reason: ChangeReason): void {
    const prev = m.state;
    if (prev === next) return;
    m.state = next;
    m.since = this.#clock.now();
    this.#emit(m, prev, reason);
  }

  #emit(m: MemberRec, prev: MemberState | undefined, reason: ChangeReason): void {
    this.#log.debug({ event: 'memberChange', member: m.name, from: prev, to: m.state, reason, incarnation: m.incarnation });
    const snap = this.#snapshot(m);
    for (const cb of this.#listeners) {
      try {
        cb(snap, prev, m.state, reason);
      } catch (err) {
        this.#log.error({ event: 'listenerError', err });
      }
    }
  }

  // --- dissemination ---------------------------------------------------------------------

  #enqueue(u: MemberUpdate): void {
    this.#queue.set(u.name, { update: u, transmits: 0 });
  }

  #retransmitLimit(): number {
    return this.#cfg.retransmitMult * Math.max(1, Math.ceil(Math.log10(this.#members.size + 2)));
  }

  /** Gossip-only datagrams to a few members while there is news, so it does not wait for probes. */
  #gossip(): void {
    if (this.#queue.size === 0) return;
    const first = this.#queue.values().next().value as Queued;
    for (const m of this.#pick(this.#cfg.gossipFanout, (x) => PROBEABLE.has(x.state))) {
      if (this.#queue.size === 0) return;
      this.#send(m, { type: GOSSIP_TYPE[first.update.state], seq: this.#nextSeq(), from: this.#self.name, syncRequest: false }, []);
    }
  }

  /** Full state to a joiner, in as many datagrams as it takes. */
  #sendState(to: Endpoint): void {
    let rest: MemberUpdate[] = [this.#selfUpdate(), ...[...this.#members.values()].map((m) => this.#updateOf(m, this.#self.name))];
    while (rest.length > 0) {
      const msg: Message = { type: 'alive', seq: this.#nextSeq(), from: this.#self.name, syncRequest: false, updates: rest };
      const e = encodeBounded(msg, this.#keys[0], this.#cfg.maxDatagram);
      this.#deliver(to, e.bytes);
      rest = rest.slice(Math.max(1, e.included));
    }
  }

  /** Encodes `msg` with `prefix` then the least-sent queued updates, as many as fit. */
  #send(to: Endpoint, msg: Unsent, prefix: readonly MemberUpdate[]): Promise<void> {
    // A queued update about a member the prefix already covers would go out twice and
    // spend its retransmit budget on one datagram: a refutation pushed to a few members
    // would then be dropped from the queue before gossip carried it to the rest.
    const covered = new Set(prefix.map((u) => u.name));
    const queued = [...this.#queue.values()].filter((q) => !covered.has(q.update.name)).sort((a, b) => a.transmits - b.transmits);
    const full = { ...msg, updates: [...prefix, ...queued.map((q) => q.update)] } as Message;
    const e = encodeBounded(full, this.#keys[0], this.#cfg.maxDatagram);
    const limit = this.#retransmitLimit();
    for (const q of queued.slice(0, Math.max(0, e.included - prefix.length))) {
      if (++q.transmits >= limit && this.#queue.get(q.update.name) === q) this.#queue.delete(q.update.name);
    }
    return this.#deliver(to, e.bytes);
  }

  #deliver(to: Endpoint, bytes: Buffer): Promise<void> {
    const fail = (err: unknown): void => {
      this.counters.sendErrors++;
      this.#log.debug({ event: 'sendError', to: `${to.address}:${to.port}`, err });
    };
    try {
      const r = this.#sendFn({ address: to.address, port: to.port }, bytes);
      return r ? r.catch(fail) : Promise.resolve();
    } catch (err) {
      fail(err);
      return Promise.resolve();
    }
  }

  // --- helpers ---------------------------------------------------------------------------

  /**
   * A timer that notices starvation: when it fires more than `lateSlackMs` late, the event
   * loop was blocked and acks may be waiting unread in the socket. Its action, and that of
   * every timer the same stall released after it, then runs on a later turn, after Node's
   * poll phase has read that input, so a starved prober does not suspect members that
   * answered in time.
   *
   * Lateness alone cannot be the test for each timer: a stall releases all the timers that
   * fell due during it in one timers phase, before the poll phase, and the last of them may
   * be only a few ms late (a round's verdict due 3 ms before the stall ended) while the ack
   * it judges has waited unread for most of the stall.
   */
  #timer(fn: () => void, ms: number): TimerHandle {
    const due = this.#clock.now() + ms;
    return this.#clock.setTimeout(() => {
      if (this.#stopped) return;
      if (this.#stalled === undefined && this.#clock.now() - due > this.#cfg.lateSlackMs) this.#beginStall();
      if (this.#stalled !== undefined) {
        this.#stalled.push(fn);
        return;
      }
      fn();
    }, ms);
  }

  #beginStall(): void {
    const stalled: (() => void)[] = [];
    this.#stalled = stalled;
    this.counters.lateTimers++;
    this.#adjustHealth(+1);
    if (this.#probe) this.#probe.starved = true;
    // A 0 ms timer set from a timer callback runs on the next turn of the event loop, after
    // its poll phase; until then, receive() keeps handling input as it is read.
    this.#clock.setTimeout(() => {
      if (this.#stalled !== stalled) return;
      this.#stalled = undefined;
      for (const fn of stalled) if (!this.#stopped) fn();
    }, 0);
  }

  #adjustHealth(delta: number): void {
    this.#health = Math.min(this.#cfg.localHealthMax, Math.max(0, this.#health + delta));
  }

  #pick(n: number, ok: (m: MemberRec) => boolean): MemberRec[] {
    return this.#shuffle([...this.#members.values()].filter(ok)).slice(0, n);
  }

  #shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
    }
    return xs;
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    return this.#seq;
  }

  #selfUpdate(): MemberUpdate {
    return this.#updateOf(this.#self, '');
  }

  #updateOf(m: MemberRec, by: string): MemberUpdate {
    return { name: m.name, address: m.address, port: m.port, incarnation: m.incarnation, state: m.state, by: m.state === 'suspect' ? by : '' };
  }

  #snapshot(m: MemberRec): Member {
    return { name: m.name, address: m.address, port: m.port, incarnation: m.incarnation, state: m.state, since: m.since };
  }
}
