/**
 * One BFD session in Asynchronous mode (RFC 5880 6.2, 6.8), as pure functions over an immutable
 * state: `receive` for a Control packet, `tick` for the passage of time (transmission and
 * detection), `adminDown`/`adminUp`/`setParameters` for the operator. Each returns the new state
 * and actions (send, sessionUp, sessionDown, schedule). Times are milliseconds from the caller's
 * clock; intervals are microseconds as on the wire.
 *
 * Not implemented: Demand mode for ourselves (we never set D, but honour a peer's), the Echo
 * function (Required Min Echo RX is always 0) and authentication (see codec.ts).
 * Discriminators are chosen by the caller. Packets are sent periodically only: a state change
 * is announced by the next periodic packet, since 6.8.7 forbids transmitting at less than the
 * negotiated interval except to answer a Poll.
 * @packageDocumentation
 */

import { BfdDiag, validateControl, type BfdControlPacket, type BfdDiscardReason, type BfdState } from './codec.js';

/** RFC 5880 6.8.3: while not Up, bfd.DesiredMinTxInterval is at least one second. */
export const SLOW_TX_US = 1_000_000;

/** Per-session parameters. */
export interface BfdSessionConfig {
  /** bfd.LocalDiscr: non-zero, unique on this system, chosen by the caller. */
  readonly localDiscriminator: number;
  /** bfd.DesiredMinTxInterval once Up, microseconds. */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval, microseconds. */
  readonly requiredMinRxUs: number;
  /** bfd.DetectMult, 1-255. */
  readonly detectMult: number;
  /** RFC 5880 6.1 Passive role: stay silent until the peer has been heard. */
  readonly passive?: boolean;
}

/** The RFC 5880 6.8.1 state variables plus the timers. */
export interface BfdSessionState {
  readonly config: BfdSessionConfig;
  /** bfd.SessionState. */
  readonly sessionState: BfdState;
  /** bfd.RemoteSessionState. */
  readonly remoteSessionState: BfdState;
  /** bfd.RemoteDiscr; 0 while unknown. */
  readonly remoteDiscriminator: number;
  /** bfd.LocalDiag. */
  readonly localDiag: number;
  /** bfd.DesiredMinTxInterval as advertised, microseconds. */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval as advertised, microseconds. */
  readonly requiredMinRxUs: number;
  /** bfd.RemoteMinRxInterval, microseconds. */
  readonly remoteMinRxUs: number;
  /** The last Desired Min TX Interval received, microseconds. */
  readonly remoteDesiredMinTxUs: number;
  /** The last Detect Mult received; 0 before the first packet. */
  readonly remoteDetectMult: number;
  /** bfd.RemoteDemandMode. */
  readonly remoteDemand: boolean;
  /** A Poll Sequence is in progress: P is set until a packet with F arrives. */
  readonly polling: boolean;
  /** Desired TX used for our transmissions: an increase while Up waits for the Poll to end (6.8.3). */
  readonly txDesiredUs: number;
  /** Required RX used for detection: a decrease while Up waits for the Poll to end (6.8.3). */
  readonly detectMinRxUs: number;
  /** When the last packet was sent. */
  readonly lastTxAt?: number;
  /** When the next periodic packet is due. */
  readonly nextTxAt: number;
  /** When the last valid packet arrived; undefined when detection is not running. */
  readonly lastRxAt?: number;
}

/** Effects for the driver, in order. */
export type BfdAction =
  | { readonly type: 'send'; readonly packet: BfdControlPacket }
  /** The session reached Up. */
  | { readonly type: 'sessionUp' }
  /** The session left Up; `diag` says why (see `BfdDiag`). */
  | { readonly type: 'sessionDown'; readonly diag: number }
  /** Call `tick` at this time (always the last action). */
  | { readonly type: 'schedule'; readonly at: number };

/** Why `receive` dropped a packet. */
export type BfdReceiveDiscard = BfdDiscardReason | 'discriminatorMismatch' | 'adminDown';

/** The outcome of one step. */
export interface BfdResult {
  readonly state: BfdSessionState;
  readonly actions: readonly BfdAction[];
  /** Set when a received packet was discarded. */
  readonly discarded?: BfdReceiveDiscard;
}

/** A random number in [0, 1), for jitter. */
export type Random = () => number;

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

function checkConfig(config: BfdSessionConfig): void {
  const problems: string[] = [];
  if (!isU32(config.localDiscriminator) || config.localDiscriminator === 0) problems.push(`localDiscriminator ${config.localDiscriminator}`);
  if (!isU32(config.desiredMinTxUs) || config.desiredMinTxUs === 0) problems.push(`desiredMinTxUs ${config.desiredMinTxUs}`);
  if (!isU32(config.requiredMinRxUs)) problems.push(`requiredMinRxUs ${config.requiredMinRxUs}`);
  if (!Number.isInteger(config.detectMult) || config.detectMult < 1 || config.detectMult > 255) problems.push(`detectMult ${config.detectMult}`);
  if (problems.length > 0) throw new RangeError(`invalid BFD session config: ${problems.join(', ')}`);
}

/** The Desired Min TX to advertise in a state (6.8.3: at least 1 s unless Up). */
const advertisedDesiredUs = (config: BfdSessionConfig, state: BfdState): number =>
  state === 'Up' ? config.desiredMinTxUs : Math.max(config.desiredMinTxUs, SLOW_TX_US);

/**
 * A new session in Down (or AdminDown), whose first packet is due at `now`. Throws `RangeError`
 * on an invalid configuration.
 */
export function createBfdSession(config: BfdSessionConfig, now: number, options: { readonly adminDown?: boolean } = {}): BfdSessionState {
  checkConfig(config);
  const sessionState: BfdState = options.adminDown === true ? 'AdminDown' : 'Down';
  const desired = advertisedDesiredUs(config, sessionState);
  return {
    config,
    sessionState,
    remoteSessionState: 'Down',
    remoteDiscriminator: 0,
    localDiag: options.adminDown === true ? BfdDiag.AdministrativelyDown : BfdDiag.None,
    desiredMinTxUs: desired,
    requiredMinRxUs: config.requiredMinRxUs,
    // 6.8.1: bfd.RemoteMinRxInterval is initialized to 1.
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    polling: false,
    txDesiredUs: desired,
    detectMinRxUs: config.requiredMinRxUs,
    nextTxAt: now,
  };
}

/**
 * 6.8.7: the interval between our packets reduced by a random 0-25%, or to 75-90% of it when
 * our Detect Mult is 1 (so the peer's one-packet detection time cannot pass first).
 */
export function jitteredIntervalMs(intervalMs: number, detectMult: number, random: Random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return detectMult === 1 ? intervalMs * (0.9 - 0.15 * r) : intervalMs * (1 - 0.25 * r);
}

/** 6.8.7: the larger of our Desired Min TX and the peer's Required Min RX, in milliseconds. */
export function transmitIntervalMs(s: BfdSessionState): number {
  return Math.max(s.txDesiredUs, s.remoteMinRxUs) / 1000;
}

/**
 * 6.8.4: the peer's Detect Mult times the larger of our Required Min RX and the peer's Desired
 * Min TX, in milliseconds; undefined before the first packet.
 */
export function detectionTimeMs(s: BfdSessionState): number | undefined {
  if (s.remoteDetectMult === 0) return undefined;
  return (s.remoteDetectMult * Math.max(s.detectMinRxUs, s.remoteDesiredMinTxUs)) / 1000;
}

/** When the detection timer expires, if it runs. */
export function detectionDeadline(s: BfdSessionState): number | undefined {
  const detection = detectionTimeMs(s);
  return s.lastRxAt === undefined || detection === undefined ? undefined : s.lastRxAt + detection;
}

/** When `tick` must run next. */
export function nextDeadline(s: BfdSessionState): number {
  const detect = detectionDeadline(s);
  return detect === undefined ? s.nextTxAt : Math.min(detect, s.nextTxAt);
}

/** The Control packet describing our side now (6.8.7). `final` answers a Poll. */
export function controlPacket(s: BfdSessionState, final = false): BfdControlPacket {
  return {
    diag: s.localDiag,
    state: s.sessionState,
    // 6.5: never both P and F; a pending Poll goes out with the next periodic packet.
    poll: s.polling && !final,
    final,
    controlPlaneIndependent: false,
    authenticationPresent: false,
    demand: false,
    multipoint: false,
    detectMult: s.config.detectMult,
    myDiscriminator: s.config.localDiscriminator,
    yourDiscriminator: s.remoteDiscriminator,
    desiredMinTxUs: s.desiredMinTxUs,
    requiredMinRxUs: s.requiredMinRxUs,
    requiredMinEchoRxUs: 0,
  };
}

/** 6.8.7: whether periodic transmission is allowed now. */
function mayTransmit(s: BfdSessionState): boolean {
  if (s.config.passive === true && s.remoteDiscriminator === 0) return false;
  if (s.remoteMinRxUs === 0) return false;
  const remoteDemandActive = s.remoteDemand && s.sessionState === 'Up' && s.remoteSessionState === 'Up';
  return !remoteDemandActive || s.polling;
}

/**
 * Brings the advertised intervals in line with the session state and configuration, starting a
 * Poll Sequence when they change (6.8.3), and moves the next transmission when the transmit
 * interval changed since `before` (6.8.7).
 */
function retime(before: BfdSessionState, s: BfdSessionState, now: number, random: Random): BfdSessionState {
  const up = s.sessionState === 'Up';
  const desired = advertisedDesiredUs(s.config, s.sessionState);
  const required = s.config.requiredMinRxUs;
  let { polling, txDesiredUs, detectMinRxUs } = s;
  if (desired !== s.desiredMinTxUs) {
    polling = true;
    // 6.8.3: an increase while Up must not slow us down before the Poll Sequence ends.
    txDesiredUs = up && desired > s.desiredMinTxUs ? txDesiredUs : desired;
  }
  if (required !== s.requiredMinRxUs) {
    polling = true;
    // 6.8.3: a decrease while Up keeps the old value for detection until the Poll ends.
    detectMinRxUs = up && required < s.requiredMinRxUs ? detectMinRxUs : required;
  }
  if (!up) {
    txDesiredUs = desired;
    detectMinRxUs = required;
  }
  let next: BfdSessionState = { ...s, desiredMinTxUs: desired, requiredMinRxUs: required, polling, txDesiredUs, detectMinRxUs };
  const previous = transmitIntervalMs(before);
  const interval = transmitIntervalMs(next);
  if (interval !== previous && next.lastTxAt !== undefined) {
    // Leaving Up: the next packet still goes out at the old rate, so that the peer learns the
    // new state (AdminDown, Down) before its Detection Time, computed from that rate, passes.
    // The slow rate applies from the packet after. (6.8.3's rule for increases while Up,
    // stretched over the moment the state changes.)
    const leavingUp = before.sessionState === 'Up' && !up;
    const gap = jitteredIntervalMs(leavingUp ? previous : interval, s.config.detectMult, random);
    next = { ...next, nextTxAt: Math.max(now, next.lastTxAt + gap) };
  }
  return next;
}

/** Adds the session-edge actions and the final schedule. */
function finish(before: BfdSessionState, s: BfdSessionState, actions: BfdAction[], discarded?: BfdReceiveDiscard): BfdResult {
  if (before.sessionState !== 'Up' && s.sessionState === 'Up') actions.push({ type: 'sessionUp' });
  if (before.sessionState === 'Up' && s.sessionState !== 'Up') actions.push({ type: 'sessionDown', diag: s.localDiag });
  actions.push({ type: 'schedule', at: nextDeadline(s) });
  return discarded === undefined ? { state: s, actions } : { state: s, actions, discarded };
}

/** 6.8.6: the new local state for a received remote state, if it changes. */
function nextState(local: BfdState, remote: BfdState): { readonly state: BfdState; readonly diag: number } | undefined {
  if (local === 'AdminDown') return undefined;
  if (remote === 'AdminDown') return local === 'Down' ? undefined : { state: 'Down', diag: BfdDiag.NeighborSignaledSessionDown };
  if (local === 'Down') {
    if (remote === 'Down') return { state: 'Init', diag: BfdDiag.None };
    if (remote === 'Init') return { state: 'Up', diag: BfdDiag.None };
    return undefined;
  }
  if (local === 'Init') return remote === 'Init' || remote === 'Up' ? { state: 'Up', diag: BfdDiag.None } : undefined;
  return remote === 'Down' ? { state: 'Down', diag: BfdDiag.NeighborSignaledSessionDown } : undefined;
}

/**
 * Processes a received Control packet (6.8.6). The packet should come from `decodeControl`;
 * its field checks are repeated here, so any packet is safe. Never throws.
 */
export function receive(s: BfdSessionState, packet: BfdControlPacket, now: number, random: Random = Math.random): BfdResult {
  const invalid = validateControl(packet);
  if (invalid !== undefined) return finish(s, s, [], invalid);
  if (packet.yourDiscriminator !== 0 && packet.yourDiscriminator !== s.config.localDiscriminator) {
    return finish(s, s, [], 'discriminatorMismatch');
  }
  let next: BfdSessionState = {
    ...s,
    remoteDiscriminator: packet.myDiscriminator,
    remoteSessionState: packet.state,
    remoteDemand: packet.demand,
    remoteMinRxUs: packet.requiredMinRxUs,
    remoteDesiredMinTxUs: packet.desiredMinTxUs,
    remoteDetectMult: packet.detectMult,
  };
  if (packet.final && next.polling) {
    // The Poll Sequence is over: deferred interval changes take effect now (6.8.3).
    next = { ...next, polling: false, txDesiredUs: next.desiredMinTxUs, detectMinRxUs: next.requiredMinRxUs };
  }
  if (s.sessionState === 'AdminDown') return finish(s, retime(s, next, now, random), [], 'adminDown');
  const change = nextState(s.sessionState, packet.state);
  if (change !== undefined) next = { ...next, sessionState: change.state, localDiag: change.diag };
  next = { ...retime(s, next, now, random), lastRxAt: now };
  const actions: BfdAction[] = [];
  // 6.8.7: answer a Poll at once, regardless of the transmit timer.
  if (packet.poll) {
    actions.push({ type: 'send', packet: controlPacket(next, true) });
    next = { ...next, lastTxAt: now };
  }
  return finish(s, next, actions);
}

/**
 * Lets time pass: runs the detection timer (6.8.4) and the periodic transmission (6.8.7).
 * Call it at (or after) each `schedule` time. Never throws.
 */
export function tick(s: BfdSessionState, now: number, random: Random = Math.random): BfdResult {
  let next = s;
  const detect = detectionDeadline(s);
  if (detect !== undefined && now >= detect) {
    // 6.8.1: bfd.RemoteDiscr is reset when a Detection Time passes in silence.
    const { lastRxAt: _silent, ...rest } = s;
    next = { ...rest, remoteDiscriminator: 0, remoteSessionState: 'Down' };
    if (s.sessionState === 'Init' || s.sessionState === 'Up') {
      next = retime(s, { ...next, sessionState: 'Down', localDiag: BfdDiag.ControlDetectionTimeExpired }, now, random);
    }
  }
  const actions: BfdAction[] = [];
  if (now >= next.nextTxAt) {
    const transmit = mayTransmit(next);
    if (transmit) actions.push({ type: 'send', packet: controlPacket(next) });
    next = {
      ...next,
      ...(transmit ? { lastTxAt: now } : {}),
      nextTxAt: now + jitteredIntervalMs(transmitIntervalMs(next), next.config.detectMult, random),
    };
  }
  return finish(s, next, actions);
}

/** 6.8.16: takes the session administratively down; the peer learns it from our next packets. */
export function adminDown(s: BfdSessionState, now: number, diag: number = BfdDiag.AdministrativelyDown, random: Random = Math.random): BfdResult {
  if (s.sessionState === 'AdminDown') return finish(s, s, []);
  const { lastRxAt: _stopped, ...rest } = s;
  return finish(s, retime(s, { ...rest, sessionState: 'AdminDown', localDiag: diag }, now, random), []);
}

/** 6.8.16: re-enables an AdminDown session, which starts over from Down. */
export function adminUp(s: BfdSessionState, now: number, random: Random = Math.random): BfdResult {
  if (s.sessionState !== 'AdminDown') return finish(s, s, []);
  return finish(s, retime(s, { ...s, sessionState: 'Down', localDiag: BfdDiag.None }, now, random), []);
}

/**
 * Changes the timer parameters; a change to the advertised intervals starts a Poll Sequence
 * (6.8.3). Throws `RangeError` on invalid values (the session is unchanged).
 */
export function setParameters(
  s: BfdSessionState,
  parameters: Partial<Pick<BfdSessionConfig, 'desiredMinTxUs' | 'requiredMinRxUs' | 'detectMult'>>,
  now: number,
  random: Random = Math.random,
): BfdResult {
  const config: BfdSessionConfig = { ...s.config, ...parameters };
  checkConfig(config);
  return finish(s, retime(s, { ...s, config }, now, random), []);
}
