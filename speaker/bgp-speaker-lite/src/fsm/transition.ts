/**
 * The RFC 4271 section 8.2.2 session state machine as a pure function:
 * `transition(state, event, config) -> { state, actions }`. No I/O, no clock, never throws.
 *
 * One machine runs per TCP connection, as in RFC 4271 8. Where this machine departs from 8.2.2,
 * the handler says so:
 * - ConnectRetryCounter counts consecutive failures and drives an exponential backoff (see
 *   `backoffMs`). It is reset by ManualStart, ManualStop and on reaching Established, and kept
 *   across automatic restarts (8.2.2 resets it on AutomaticStart too, which would defeat the
 *   backoff). Every failure counts, including ConnectRetryTimer expiry in Connect and TCP failure
 *   in OpenSent, so a peer that keeps failing is retried ever more slowly.
 * - After a failure (not after a stop) the machine restarts itself: it starts the IdleHoldTimer
 *   with the backoff delay and treats IdleHoldTimer_Expires in Idle as an AutomaticStart in the
 *   mode of the last start. This is the simple form of DampPeerOscillations.
 * - Passive mode (started with PassiveTcpEstablishment) never connects, it only accepts; 8.2.2
 *   would connect once the ConnectRetryTimer expires in Active.
 * - DelayOpen and SendNOTIFICATIONwithoutOPEN are off; CollisionDetectEstablishedState is off.
 * - A NOTIFICATION received in OpenSent closes the session without a NOTIFICATION in reply
 *   (8.2.2 lists it among the events answered with an FSM Error, but the peer has already
 *   closed; RFC 4271 6.4).
 * - A message-header error is answered with Message Header Error in every state past Active
 *   (RFC 4271 6.1), including Established.
 * - FSM Error subcodes follow RFC 6608: unexpected messages get the per-state subcode,
 *   unexpected internal events (timers) get Unspecified (0).
 * - RouteRefreshMsgErr (RFC 7313 5, not an RFC 4271 event) closes an Established session with
 *   ROUTE-REFRESH Message Error; before Established it is an unexpected message.
 * - BfdDown (not an RFC 4271 event) takes a session past Active down at once with Cease/BFD
 *   Down (RFC 5882 §4.2, RFC 9384), counted as a failure; before that it changes nothing.
 * @packageDocumentation
 */

import { backoffMs, buildOpen, checkOpen } from './open.js';
import {
  CeaseSubcode,
  ErrorCode,
  FsmErrorSubcode,
  type Action,
  type Notification,
  type SessionConfig,
  type SessionDownReason,
  type SessionEvent,
  type SessionEventType,
  type SessionState,
  type SessionStateName,
  type TimerName,
  type Transition,
} from './types.js';

/** The state a new session starts in: Idle, not started. */
export const initialSessionState: SessionState = { name: 'Idle', connectRetryCounter: 0, passive: false, enabled: false };

type Ev = SessionEvent;
type Act = Action;
type Result = Transition;
type Handler<K extends SessionEventType> = (s: SessionState, e: Extract<Ev, { type: K }>, c: SessionConfig) => Result;
type Table = { readonly [K in SessionEventType]?: Handler<K> };
type Fallback = (s: SessionState, e: Ev, c: SessionConfig) => Result;

const EMPTY = new Uint8Array(0);

const note = (code: number, subcode: number, data: Uint8Array = EMPTY): Notification => ({ code, subcode, data });
const sendNotification = (n: Notification): Act => ({ type: 'sendNotification', code: n.code, subcode: n.subcode, data: n.data });
const startTimer = (name: TimerName, ms: number): Act => ({ type: 'startTimer', name, ms });
const stopTimer = (name: TimerName): Act => ({ type: 'stopTimer', name });

const stay = (s: SessionState, ...actions: Act[]): Result => ({ state: s, actions });
const ignore: Fallback = (s) => stay(s);

/** The bare state, without what only a negotiated session carries. */
const base = (s: SessionState, name: SessionStateName, counter = s.connectRetryCounter): SessionState => ({
  name,
  connectRetryCounter: counter,
  passive: s.passive,
  enabled: s.enabled,
});

/** The connect attempt's timeout: the delay that one more failure would earn. */
const connectTimeoutMs = (c: SessionConfig, counter: number): number => backoffMs(c, counter + 1);

interface IdleOptions {
  readonly reason: SessionDownReason;
  /** NOTIFICATION to send before closing. */
  readonly send?: Notification;
  /** NOTIFICATION the peer sent. */
  readonly received?: Notification;
  /** A stop, not a failure: no automatic restart. */
  readonly stopped?: boolean;
  /** ManualStop: ConnectRetryCounter back to zero. */
  readonly resetCounter?: boolean;
}

/** Every path to Idle: notify, stop the timers, close, release, report, maybe schedule a restart. */
function toIdle(s: SessionState, c: SessionConfig, o: IdleOptions): Result {
  const counter = o.resetCounter === true ? 0 : s.connectRetryCounter + 1;
  const enabled = s.enabled && o.stopped !== true;
  const actions: Act[] = [];
  if (o.send !== undefined) actions.push(sendNotification(o.send));
  actions.push(
    stopTimer('ConnectRetryTimer'),
    stopTimer('HoldTimer'),
    stopTimer('KeepaliveTimer'),
    { type: 'dropTcp' },
    { type: 'releaseResources' },
  );
  const notification = o.send ?? o.received;
  actions.push({ type: 'sessionDown', from: s.name, reason: o.reason, ...(notification !== undefined ? { notification } : {}) });
  if (enabled && c.autoRestart) actions.push(startTimer('IdleHoldTimer', backoffMs(c, counter)));
  return { state: { name: 'Idle', connectRetryCounter: counter, passive: s.passive, enabled }, actions };
}

/** Idle -> Connect (active) or Active (passive). */
function startSession(s: SessionState, c: SessionConfig, passive: boolean, resetCounter: boolean): Result {
  const counter = resetCounter ? 0 : s.connectRetryCounter;
  const state: SessionState = { name: passive ? 'Active' : 'Connect', connectRetryCounter: counter, passive, enabled: true };
  const actions: Act[] = [stopTimer('IdleHoldTimer'), { type: 'listen' }];
  if (!passive) actions.push(startTimer('ConnectRetryTimer', connectTimeoutMs(c, counter)), { type: 'connect' });
  return { state, actions };
}

/** The TCP connection is up: send OPEN and wait for the peer's with a large hold timer (8.2.2). */
function toOpenSent(s: SessionState, c: SessionConfig): Result {
  return {
    state: base(s, 'OpenSent'),
    actions: [
      stopTimer('ConnectRetryTimer'),
      { type: 'sendOpen', open: buildOpen(c) },
      startTimer('HoldTimer', c.largeHoldTimeMs),
    ],
  };
}

const MESSAGE_EVENTS: ReadonlySet<SessionEventType> = new Set<SessionEventType>([
  'BGPOpen',
  'BGPHeaderErr',
  'BGPOpenMsgErr',
  'NotifMsg',
  'NotifMsgVerErr',
  'KeepAliveMsg',
  'UpdateMsg',
  'UpdateMsgErr',
  'RouteRefreshMsgErr',
]);

const FSM_SUBCODE: Partial<Record<SessionStateName, number>> = {
  OpenSent: FsmErrorSubcode.UnexpectedMessageInOpenSent,
  OpenConfirm: FsmErrorSubcode.UnexpectedMessageInOpenConfirm,
  Established: FsmErrorSubcode.UnexpectedMessageInEstablished,
};

/** RFC 4271 8.2.2 "any other event" past Active: FSM Error (RFC 6608 subcodes), then Idle. */
const fsmError: Fallback = (s, e, c) => {
  const subcode = MESSAGE_EVENTS.has(e.type) ? (FSM_SUBCODE[s.name] ?? FsmErrorSubcode.Unspecified) : FsmErrorSubcode.Unspecified;
  return toIdle(s, c, { reason: 'fsmError', send: note(ErrorCode.FsmError, subcode) });
};

/** RFC 4271 8.2.2 "any other event" in Connect and Active: Idle without a NOTIFICATION. */
const unexpectedBeforeOpen: Fallback = (s, _e, c) => toIdle(s, c, { reason: 'unexpectedEvent' });

// Handlers shared by several states.

const manualStop: Handler<'ManualStop'> = (s, e, c) =>
  toIdle(s, c, {
    reason: 'manualStop',
    stopped: true,
    resetCounter: true,
    ...(s.name === 'Connect' || s.name === 'Active'
      ? {}
      : { send: note(ErrorCode.Cease, e.subcode ?? CeaseSubcode.AdministrativeShutdown, e.data ?? EMPTY) }),
  });

const automaticStop: Handler<'AutomaticStop'> = (s, e, c) =>
  toIdle(s, c, {
    reason: 'automaticStop',
    stopped: true,
    ...(s.name === 'Connect' || s.name === 'Active' ? {} : { send: note(ErrorCode.Cease, e.subcode, e.data ?? EMPTY) }),
  });

const holdTimerExpired: Handler<'HoldTimer_Expires'> = (s, _e, c) =>
  toIdle(s, c, { reason: 'holdTimerExpired', send: note(ErrorCode.HoldTimerExpired, 0) });

const tcpFails: Handler<'TcpConnectionFails'> = (s, _e, c) => toIdle(s, c, { reason: 'tcpConnectionFails' });

const notifMsg: Handler<'NotifMsg'> = (s, e, c) => toIdle(s, c, { reason: 'notificationReceived', received: e.notification });

const notifVerErr: Handler<'NotifMsgVerErr'> = (s, e, c) =>
  toIdle(s, c, { reason: 'notificationVersionError', ...(e.notification !== undefined ? { received: e.notification } : {}) });

const collisionDump: Handler<'OpenCollisionDump'> = (s, _e, c) =>
  toIdle(s, c, {
    reason: 'collisionResolution',
    // The other connection carries the session on; this machine must not restart.
    stopped: true,
    send: note(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution),
  });

// RFC 5882 §4.2: the forwarding path is gone, so is the session. RFC 9384 §2: Cease/BFD Down
// (the NOTIFICATION will rarely arrive, but costs nothing to try). A failure, not a stop: the
// session restarts with the usual backoff.
const bfdDown: Handler<'BfdDown'> = (s, _e, c) => toIdle(s, c, { reason: 'bfdDown', send: note(ErrorCode.Cease, CeaseSubcode.BfdDown) });

const headerErrSilent: Handler<'BGPHeaderErr'> = (s, _e, c) => toIdle(s, c, { reason: 'messageHeaderError' });
const openErrSilent: Handler<'BGPOpenMsgErr'> = (s, _e, c) => toIdle(s, c, { reason: 'openMessageError' });

const headerErr: Handler<'BGPHeaderErr'> = (s, e, c) =>
  toIdle(s, c, { reason: 'messageHeaderError', send: note(ErrorCode.MessageHeader, e.subcode, e.data ?? EMPTY) });
const openErr: Handler<'BGPOpenMsgErr'> = (s, e, c) =>
  toIdle(s, c, { reason: 'openMessageError', send: note(ErrorCode.OpenMessage, e.subcode, e.data ?? EMPTY) });

const accept = (s: SessionState): Result => stay(s, { type: 'acceptIncoming' });
const reject = (s: SessionState): Result => stay(s, { type: 'rejectIncoming' });
const track = (s: SessionState): Result => stay(s, { type: 'secondConnection', handling: 'track' });
const refuseSecond = (s: SessionState): Result => stay(s, { type: 'secondConnection', handling: 'close' });

const holdMs = (s: SessionState): number => (s.negotiated?.holdTimeSec ?? 0) * 1000;

/** Restart the hold timer on KEEPALIVE or UPDATE (8.2.2), unless the negotiated hold time is 0. */
const restartHold = (s: SessionState): Act[] => (holdMs(s) > 0 ? [startTimer('HoldTimer', holdMs(s))] : []);

const keepaliveTick: Handler<'KeepaliveTimer_Expires'> = (s) => {
  const ms = s.negotiated?.keepaliveMs ?? 0;
  return stay(s, { type: 'sendKeepalive' }, ...(ms > 0 ? [startTimer('KeepaliveTimer', ms)] : []));
};

const STARTS_IGNORED: Table = {
  ManualStart: ignore,
  AutomaticStart: ignore,
  ManualStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_PassiveTcpEstablishment: ignore,
};

const idle: Table = {
  ManualStart: (s, _e, c) => startSession(s, c, false, true),
  AutomaticStart: (s, _e, c) => startSession(s, c, false, false),
  ManualStart_with_PassiveTcpEstablishment: (s, _e, c) => startSession(s, c, true, true),
  AutomaticStart_with_PassiveTcpEstablishment: (s, _e, c) => startSession(s, c, true, false),
  IdleHoldTimer_Expires: (s, _e, c) => (s.enabled ? startSession(s, c, s.passive, false) : stay(s)),
  // RFC 4271 8.2.2 ignores stops in Idle; here they also cancel a pending automatic restart.
  ManualStop: (s) => stay({ ...base(s, 'Idle', 0), enabled: false }, stopTimer('IdleHoldTimer')),
  AutomaticStop: (s) => stay({ ...base(s, 'Idle'), enabled: false }, stopTimer('IdleHoldTimer')),
  // Idle refuses all connections (8.2.2).
  TcpConnection_Valid: reject,
  Tcp_CR_Invalid: reject,
  TcpConnectionConfirmed: reject,
  Tcp_CR_Acked: (s) => stay(s, { type: 'dropTcp' }),
};

const connect: Table = {
  ...STARTS_IGNORED,
  ManualStop: manualStop,
  AutomaticStop: automaticStop,
  // 8.2.2: drop the attempt and try again. Counted as a failure, so the next attempt waits longer.
  ConnectRetryTimer_Expires: (s, _e, c) => {
    const counter = s.connectRetryCounter + 1;
    return stay(base(s, 'Connect', counter), { type: 'dropTcp' }, startTimer('ConnectRetryTimer', connectTimeoutMs(c, counter)), {
      type: 'connect',
    });
  },
  TcpConnection_Valid: accept,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: (s, _e, c) => toOpenSent(s, c),
  TcpConnectionConfirmed: (s, _e, c) => toOpenSent(s, c),
  TcpConnectionFails: tcpFails,
  BGPHeaderErr: headerErrSilent,
  BGPOpenMsgErr: openErrSilent,
  NotifMsgVerErr: notifVerErr,
  NotifMsg: notifMsg,
  // No BGP session to take down yet; a TCP attempt on a dead path fails by itself.
  BfdDown: ignore,
};

const active: Table = {
  ...connect,
  ConnectRetryTimer_Expires: (s, _e, c) =>
    s.passive
      ? stay(s)
      : {
          state: base(s, 'Connect'),
          actions: [startTimer('ConnectRetryTimer', connectTimeoutMs(c, s.connectRetryCounter)), { type: 'connect' }],
        },
};

/** Handlers common to OpenSent, OpenConfirm and Established. */
const OPENED: Table = {
  ...STARTS_IGNORED,
  ManualStop: manualStop,
  AutomaticStop: automaticStop,
  HoldTimer_Expires: holdTimerExpired,
  TcpConnection_Valid: track,
  Tcp_CR_Acked: track,
  TcpConnectionConfirmed: track,
  Tcp_CR_Invalid: reject,
  TcpConnectionFails: tcpFails,
  BGPHeaderErr: headerErr,
  BGPOpenMsgErr: openErr,
  OpenCollisionDump: collisionDump,
  NotifMsgVerErr: notifVerErr,
  NotifMsg: notifMsg,
  BfdDown: bfdDown,
};

const openSent: Table = {
  ...OPENED,
  // 8.2.2: close, go back to Active and retry (a failure: counted).
  TcpConnectionFails: (s, _e, c) => {
    const counter = s.connectRetryCounter + 1;
    const actions: Act[] = [stopTimer('HoldTimer'), { type: 'dropTcp' }];
    if (!s.passive) actions.push(startTimer('ConnectRetryTimer', backoffMs(c, counter)));
    return { state: base(s, 'Active', counter), actions };
  },
  BGPOpen: (s, e, c) => {
    const check = checkOpen(e.open, c);
    if (!check.ok) return toIdle(s, c, { reason: 'openMessageError', send: check.notification });
    const { negotiated } = check;
    const timers: Act[] =
      negotiated.holdTimeSec > 0
        ? [startTimer('KeepaliveTimer', negotiated.keepaliveMs), startTimer('HoldTimer', negotiated.holdTimeSec * 1000)]
        : [stopTimer('KeepaliveTimer'), stopTimer('HoldTimer')];
    return {
      state: { ...base(s, 'OpenConfirm'), negotiated },
      actions: [stopTimer('ConnectRetryTimer'), { type: 'sendKeepalive' }, ...timers],
    };
  },
};

const openConfirm: Table = {
  ...OPENED,
  KeepaliveTimer_Expires: keepaliveTick,
  KeepAliveMsg: (s, e, c) => {
    if (s.negotiated === undefined) return fsmError(s, e, c);
    return {
      state: { ...base(s, 'Established', 0), negotiated: s.negotiated },
      actions: [...restartHold(s), { type: 'established', negotiated: s.negotiated }],
    };
  },
};

const established: Table = {
  ...OPENED,
  // CollisionDetectEstablishedState is off: a new connection loses to an Established one (6.8).
  TcpConnection_Valid: refuseSecond,
  Tcp_CR_Acked: refuseSecond,
  TcpConnectionConfirmed: refuseSecond,
  KeepaliveTimer_Expires: keepaliveTick,
  KeepAliveMsg: (s) => stay(s, ...restartHold(s)),
  UpdateMsg: (s, e) => stay(s, ...restartHold(s), { type: 'deliverUpdate', update: e.update }),
  UpdateMsgErr: (s, e, c) =>
    toIdle(s, c, { reason: 'updateMessageError', send: note(ErrorCode.UpdateMessage, e.subcode, e.data ?? EMPTY) }),
  // RFC 7313 5: ROUTE-REFRESH Message Error, then close (before Established it is an FSM error).
  RouteRefreshMsgErr: (s, e, c) =>
    toIdle(s, c, { reason: 'routeRefreshMessageError', send: note(ErrorCode.RouteRefreshMessage, e.subcode, e.data ?? EMPTY) }),
  // An OPEN, valid or not, is unexpected on an Established connection (RFC 6608).
  BGPOpenMsgErr: (s, e, c) => fsmError(s, e, c),
};

const TABLES: Readonly<Record<SessionStateName, { readonly table: Table; readonly fallback: Fallback }>> = {
  Idle: { table: idle, fallback: ignore },
  Connect: { table: connect, fallback: unexpectedBeforeOpen },
  Active: { table: active, fallback: unexpectedBeforeOpen },
  OpenSent: { table: openSent, fallback: fsmError },
  OpenConfirm: { table: openConfirm, fallback: fsmError },
  Established: { table: established, fallback: fsmError },
};

/**
 * One step of the session state machine (RFC 4271 8.2.2). Pure and total: every state and
 * event has an outcome. Carry out the actions in order. `U` is the driver's UPDATE type,
 * passed from `UpdateMsg` to `deliverUpdate` untouched.
 */
export function transition<U = unknown>(state: SessionState, event: SessionEvent<U>, config: SessionConfig): Transition<U> {
  const entry = TABLES[state.name] ?? TABLES.Idle;
  // The table is keyed by event type, so the handler found matches the event's type.
  const handler = entry.table[event.type] as Fallback | undefined;
  return (handler ?? entry.fallback)(state, event as Ev, config) as Transition<U>;
}
