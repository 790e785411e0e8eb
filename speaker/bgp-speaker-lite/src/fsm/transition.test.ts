import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sessionConfig } from './open.js';
import { initialSessionState, transition } from './transition.js';
import type { Action, OpenMessage, SessionConfig, SessionEvent, SessionState } from './types.js';

/** 10.0.0.1 and 10.0.0.2 as unsigned 32-bit integers. */
const LOCAL_ID = 0x0a00_0001;
const PEER_ID = 0x0a00_0002;

const config: SessionConfig = sessionConfig({ localAsn: 64512, peerAsn: 64513, localBgpId: LOCAL_ID });

/** A valid OPEN from the peer, with overrides. */
function peerOpen(overrides: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 'open',
    version: 4,
    asn: 64513,
    holdTime: 30,
    bgpId: PEER_ID,
    capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], fourOctetAsn: 64513, routeRefresh: true },
    ...overrides,
  };
}

/** Runs events from `state`, returning the final state and the actions of the last step. */
function run(
  events: readonly SessionEvent[],
  cfg: SessionConfig = config,
  state: SessionState = initialSessionState,
): { state: SessionState; actions: readonly Action[] } {
  let result: { state: SessionState; actions: readonly Action[] } = { state, actions: [] };
  for (const event of events) result = transition(result.state, event, cfg);
  return result;
}

/** Event prefixes that reach each state in active mode. */
const TO: Readonly<Record<'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established', readonly SessionEvent[]>> = {
  Idle: [],
  Connect: [{ type: 'ManualStart' }],
  Active: [{ type: 'ManualStart_with_PassiveTcpEstablishment' }],
  OpenSent: [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }],
  OpenConfirm: [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }, { type: 'BGPOpen', open: peerOpen() }],
  Established: [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }, { type: 'BGPOpen', open: peerOpen() }, { type: 'KeepAliveMsg' }],
};

/** The notification actions among `actions`, as [code, subcode]. */
const notificationsOf = (actions: readonly Action[]): [number, number][] =>
  actions.flatMap((a) => (a.type === 'sendNotification' ? [[a.code, a.subcode] as [number, number]] : []));

const typesOf = (actions: readonly Action[]): string[] => actions.map((a) => a.type);
const timersStarted = (actions: readonly Action[]): [string, number][] =>
  actions.flatMap((a) => (a.type === 'startTimer' ? [[a.name, a.ms] as [string, number]] : []));
const downOf = (actions: readonly Action[]): Extract<Action, { type: 'sessionDown' }> | undefined =>
  actions.find((a): a is Extract<Action, { type: 'sessionDown' }> => a.type === 'sessionDown');

interface Step {
  readonly event: SessionEvent;
  readonly state: SessionState['name'];
  /** The exact action types, in order. */
  readonly actions?: readonly string[];
  /** Actions that must be among those emitted. */
  readonly includes?: readonly object[];
}

/** Runs a scenario from Idle, checking the state and actions after every step. */
function scenario(steps: readonly Step[], cfg: SessionConfig = config): SessionState {
  let state = initialSessionState;
  steps.forEach((step, i) => {
    const result = transition(state, step.event, cfg);
    const where = `step ${i} (${step.event.type})`;
    expect({ where, state: result.state.name }).toEqual({ where, state: step.state });
    if (step.actions) expect({ where, actions: typesOf(result.actions) }).toEqual({ where, actions: step.actions });
    for (const action of step.includes ?? []) expect(result.actions).toContainEqual(expect.objectContaining(action));
    state = result.state;
  });
  return state;
}

const CLOSE = ['stopTimer', 'stopTimer', 'stopTimer', 'dropTcp', 'releaseResources', 'sessionDown'];

describe('transition: happy paths', () => {
  it('establishes an actively opened session and keeps it alive', () => {
    const final = scenario([
      {
        event: { type: 'ManualStart' },
        state: 'Connect',
        actions: ['stopTimer', 'listen', 'startTimer', 'connect'],
        includes: [{ type: 'startTimer', name: 'ConnectRetryTimer', ms: 1000 }],
      },
      {
        event: { type: 'Tcp_CR_Acked' },
        state: 'OpenSent',
        actions: ['stopTimer', 'sendOpen', 'startTimer'],
        includes: [
          { type: 'stopTimer', name: 'ConnectRetryTimer' },
          // RFC 4271 8: a large hold timer (4 minutes) while waiting for the peer's OPEN.
          { type: 'startTimer', name: 'HoldTimer', ms: 240_000 },
          { type: 'sendOpen', open: { type: 'open', version: 4, asn: 64512, holdTime: 90, bgpId: LOCAL_ID, capabilities: expect.anything() } },
        ],
      },
      {
        event: { type: 'BGPOpen', open: peerOpen({ holdTime: 30 }) },
        state: 'OpenConfirm',
        actions: ['stopTimer', 'sendKeepalive', 'startTimer', 'startTimer'],
        includes: [
          { type: 'startTimer', name: 'KeepaliveTimer', ms: 10_000 },
          { type: 'startTimer', name: 'HoldTimer', ms: 30_000 },
        ],
      },
      {
        event: { type: 'KeepAliveMsg' },
        state: 'Established',
        actions: ['startTimer', 'established'],
        includes: [{ type: 'startTimer', name: 'HoldTimer', ms: 30_000 }],
      },
      {
        event: { type: 'UpdateMsg', update: { nlri: ['192.0.2.0/24'] } },
        state: 'Established',
        actions: ['startTimer', 'deliverUpdate'],
        includes: [{ type: 'deliverUpdate', update: { nlri: ['192.0.2.0/24'] } }],
      },
      { event: { type: 'KeepAliveMsg' }, state: 'Established', actions: ['startTimer'] },
      {
        event: { type: 'KeepaliveTimer_Expires' },
        state: 'Established',
        actions: ['sendKeepalive', 'startTimer'],
        includes: [{ type: 'startTimer', name: 'KeepaliveTimer', ms: 10_000 }],
      },
      {
        event: { type: 'ManualStop' },
        state: 'Idle',
        actions: ['sendNotification', ...CLOSE],
        includes: [
          { type: 'sendNotification', code: 6, subcode: 2 },
          { type: 'sessionDown', from: 'Established', reason: 'manualStop', notification: expect.objectContaining({ code: 6, subcode: 2 }) },
        ],
      },
    ]);
    expect(final).toEqual({ name: 'Idle', connectRetryCounter: 0, passive: false, enabled: false });
  });

  it('reports what the OPEN exchange negotiated when the session is established', () => {
    const { actions, state } = run(TO.Established);
    const established = actions.find((a) => a.type === 'established');
    expect(established).toEqual({
      type: 'established',
      negotiated: {
        holdTimeSec: 30,
        keepaliveMs: 10_000,
        peerAsn: 64513,
        peerBgpId: PEER_ID,
        ibgp: false,
        families: [{ afi: 1, safi: 1 }],
        fourOctetAsn: true,
        routeRefresh: true,
        extendedMessage: false,
      },
    });
    expect(state.negotiated?.holdTimeSec).toBe(30);
  });

  it('establishes a passively opened session without ever connecting', () => {
    scenario([
      { event: { type: 'ManualStart_with_PassiveTcpEstablishment' }, state: 'Active', actions: ['stopTimer', 'listen'] },
      { event: { type: 'ConnectRetryTimer_Expires' }, state: 'Active', actions: [] },
      { event: { type: 'TcpConnection_Valid' }, state: 'Active', actions: ['acceptIncoming'] },
      { event: { type: 'TcpConnectionConfirmed' }, state: 'OpenSent', actions: ['stopTimer', 'sendOpen', 'startTimer'] },
      { event: { type: 'BGPOpen', open: peerOpen() }, state: 'OpenConfirm' },
      { event: { type: 'KeepAliveMsg' }, state: 'Established', includes: [{ type: 'established' }] },
    ]);
  });

  it('goes back to Active without connecting when a passive session loses TCP in OpenSent', () => {
    const { state, actions } = run([{ type: 'ManualStart_with_PassiveTcpEstablishment' }, { type: 'TcpConnectionConfirmed' }, { type: 'TcpConnectionFails' }]);
    expect(state.name).toBe('Active');
    expect(typesOf(actions)).toEqual(['stopTimer', 'dropTcp']);
  });

  it('accepts an incoming connection in Connect and uses it', () => {
    scenario([
      { event: { type: 'ManualStart' }, state: 'Connect' },
      { event: { type: 'TcpConnection_Valid' }, state: 'Connect', actions: ['acceptIncoming'] },
      { event: { type: 'Tcp_CR_Invalid' }, state: 'Connect', actions: ['rejectIncoming'] },
      { event: { type: 'TcpConnectionConfirmed' }, state: 'OpenSent' },
    ]);
  });

  it('negotiates hold time 0 as no hold timer and no keepalives', () => {
    const { state, actions } = run([...TO.OpenSent, { type: 'BGPOpen', open: peerOpen({ holdTime: 0 }) }]);
    expect(state.name).toBe('OpenConfirm');
    expect(state.negotiated?.keepaliveMs).toBe(0);
    expect(timersStarted(actions)).toEqual([]);
    expect(actions).toContainEqual({ type: 'stopTimer', name: 'HoldTimer' });
    const established = transition(state, { type: 'KeepAliveMsg' }, config);
    expect(typesOf(established.actions)).toEqual(['established']);
    expect(typesOf(transition(established.state, { type: 'KeepAliveMsg' }, config).actions)).toEqual([]);
    expect(typesOf(transition(established.state, { type: 'KeepaliveTimer_Expires' }, config).actions)).toEqual(['sendKeepalive']);
  });

  it('negotiates the smaller hold time and a keepalive of a third of it', () => {
    const ours9 = sessionConfig({ ...config, holdTimeSec: 9 });
    const { state, actions } = run([...TO.OpenSent, { type: 'BGPOpen', open: peerOpen({ holdTime: 90 }) }], ours9);
    expect(state.negotiated).toMatchObject({ holdTimeSec: 9, keepaliveMs: 3000 });
    expect(timersStarted(actions)).toEqual([
      ['KeepaliveTimer', 3000],
      ['HoldTimer', 9000],
    ]);
  });

  it('ignores start events once started', () => {
    for (const name of ['Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const) {
      const before = run(TO[name]).state;
      for (const type of ['ManualStart', 'AutomaticStart', 'ManualStart_with_PassiveTcpEstablishment', 'AutomaticStart_with_PassiveTcpEstablishment'] as const) {
        expect(transition(before, { type }, config)).toEqual({ state: before, actions: [] });
      }
    }
  });
});

interface ErrorCase {
  readonly from: keyof typeof TO;
  readonly event: SessionEvent;
  readonly to: SessionState['name'];
  /** [code, subcode] of the NOTIFICATION sent; empty for none. */
  readonly sends: [number, number][];
  readonly reason?: string;
}

const bad = (overrides: Partial<OpenMessage>): SessionEvent => ({ type: 'BGPOpen', open: peerOpen(overrides) });

const ERROR_CASES: readonly ErrorCase[] = [
  // Connect and Active: no OPEN sent yet, so no NOTIFICATION (SendNOTIFICATIONwithoutOPEN is off).
  { from: 'Connect', event: { type: 'TcpConnectionFails' }, to: 'Idle', sends: [], reason: 'tcpConnectionFails' },
  { from: 'Connect', event: { type: 'BGPHeaderErr', subcode: 1 }, to: 'Idle', sends: [], reason: 'messageHeaderError' },
  { from: 'Connect', event: { type: 'BGPOpenMsgErr', subcode: 4 }, to: 'Idle', sends: [], reason: 'openMessageError' },
  { from: 'Connect', event: { type: 'NotifMsgVerErr' }, to: 'Idle', sends: [], reason: 'notificationVersionError' },
  { from: 'Connect', event: { type: 'NotifMsg', notification: { code: 6, subcode: 5, data: new Uint8Array() } }, to: 'Idle', sends: [], reason: 'notificationReceived' },
  { from: 'Connect', event: { type: 'KeepAliveMsg' }, to: 'Idle', sends: [], reason: 'unexpectedEvent' },
  { from: 'Connect', event: { type: 'HoldTimer_Expires' }, to: 'Idle', sends: [], reason: 'unexpectedEvent' },
  { from: 'Connect', event: { type: 'BGPOpen', open: peerOpen() }, to: 'Idle', sends: [], reason: 'unexpectedEvent' },
  { from: 'Connect', event: { type: 'ManualStop' }, to: 'Idle', sends: [], reason: 'manualStop' },
  { from: 'Active', event: { type: 'TcpConnectionFails' }, to: 'Idle', sends: [], reason: 'tcpConnectionFails' },
  { from: 'Active', event: { type: 'UpdateMsg', update: null }, to: 'Idle', sends: [], reason: 'unexpectedEvent' },
  { from: 'Active', event: { type: 'BGPHeaderErr', subcode: 2 }, to: 'Idle', sends: [], reason: 'messageHeaderError' },
  { from: 'Active', event: { type: 'ManualStop' }, to: 'Idle', sends: [], reason: 'manualStop' },
  // OpenSent
  { from: 'OpenSent', event: { type: 'HoldTimer_Expires' }, to: 'Idle', sends: [[4, 0]], reason: 'holdTimerExpired' },
  { from: 'OpenSent', event: { type: 'BGPHeaderErr', subcode: 2 }, to: 'Idle', sends: [[1, 2]], reason: 'messageHeaderError' },
  { from: 'OpenSent', event: { type: 'BGPOpenMsgErr', subcode: 4 }, to: 'Idle', sends: [[2, 4]], reason: 'openMessageError' },
  { from: 'OpenSent', event: bad({ version: 3 }), to: 'Idle', sends: [[2, 1]], reason: 'openMessageError' },
  { from: 'OpenSent', event: bad({ asn: 64999, capabilities: {} }), to: 'Idle', sends: [[2, 2]], reason: 'openMessageError' },
  { from: 'OpenSent', event: bad({ holdTime: 1 }), to: 'Idle', sends: [[2, 6]], reason: 'openMessageError' },
  { from: 'OpenSent', event: bad({ holdTime: 2 }), to: 'Idle', sends: [[2, 6]], reason: 'openMessageError' },
  { from: 'OpenSent', event: bad({ bgpId: 0 }), to: 'Idle', sends: [[2, 3]], reason: 'openMessageError' },
  { from: 'OpenSent', event: { type: 'KeepAliveMsg' }, to: 'Idle', sends: [[5, 1]], reason: 'fsmError' },
  { from: 'OpenSent', event: { type: 'UpdateMsg', update: null }, to: 'Idle', sends: [[5, 1]], reason: 'fsmError' },
  { from: 'OpenSent', event: { type: 'UpdateMsgErr', subcode: 1 }, to: 'Idle', sends: [[5, 1]], reason: 'fsmError' },
  { from: 'OpenSent', event: { type: 'KeepaliveTimer_Expires' }, to: 'Idle', sends: [[5, 0]], reason: 'fsmError' },
  { from: 'OpenSent', event: { type: 'ConnectRetryTimer_Expires' }, to: 'Idle', sends: [[5, 0]], reason: 'fsmError' },
  { from: 'OpenSent', event: { type: 'DelayOpenTimer_Expires' }, to: 'Idle', sends: [[5, 0]], reason: 'fsmError' },
  { from: 'OpenSent', event: { type: 'NotifMsg', notification: { code: 2, subcode: 2, data: new Uint8Array() } }, to: 'Idle', sends: [], reason: 'notificationReceived' },
  { from: 'OpenSent', event: { type: 'NotifMsgVerErr' }, to: 'Idle', sends: [], reason: 'notificationVersionError' },
  { from: 'OpenSent', event: { type: 'OpenCollisionDump' }, to: 'Idle', sends: [[6, 7]], reason: 'collisionResolution' },
  { from: 'OpenSent', event: { type: 'ManualStop' }, to: 'Idle', sends: [[6, 2]], reason: 'manualStop' },
  { from: 'OpenSent', event: { type: 'ManualStop', subcode: 3 }, to: 'Idle', sends: [[6, 3]], reason: 'manualStop' },
  { from: 'OpenSent', event: { type: 'AutomaticStop', subcode: 1 }, to: 'Idle', sends: [[6, 1]], reason: 'automaticStop' },
  { from: 'OpenSent', event: { type: 'BfdDown' }, to: 'Idle', sends: [[6, 10]], reason: 'bfdDown' },
  // OpenConfirm
  { from: 'OpenConfirm', event: { type: 'HoldTimer_Expires' }, to: 'Idle', sends: [[4, 0]], reason: 'holdTimerExpired' },
  { from: 'OpenConfirm', event: { type: 'BGPOpen', open: peerOpen() }, to: 'Idle', sends: [[5, 2]], reason: 'fsmError' },
  { from: 'OpenConfirm', event: { type: 'UpdateMsg', update: null }, to: 'Idle', sends: [[5, 2]], reason: 'fsmError' },
  { from: 'OpenConfirm', event: { type: 'UpdateMsgErr', subcode: 3 }, to: 'Idle', sends: [[5, 2]], reason: 'fsmError' },
  { from: 'OpenConfirm', event: { type: 'ConnectRetryTimer_Expires' }, to: 'Idle', sends: [[5, 0]], reason: 'fsmError' },
  { from: 'OpenConfirm', event: { type: 'BGPHeaderErr', subcode: 3 }, to: 'Idle', sends: [[1, 3]], reason: 'messageHeaderError' },
  { from: 'OpenConfirm', event: { type: 'BGPOpenMsgErr', subcode: 7 }, to: 'Idle', sends: [[2, 7]], reason: 'openMessageError' },
  { from: 'OpenConfirm', event: { type: 'TcpConnectionFails' }, to: 'Idle', sends: [], reason: 'tcpConnectionFails' },
  { from: 'OpenConfirm', event: { type: 'NotifMsg', notification: { code: 6, subcode: 2, data: new Uint8Array() } }, to: 'Idle', sends: [], reason: 'notificationReceived' },
  { from: 'OpenConfirm', event: { type: 'OpenCollisionDump' }, to: 'Idle', sends: [[6, 7]], reason: 'collisionResolution' },
  { from: 'OpenConfirm', event: { type: 'ManualStop' }, to: 'Idle', sends: [[6, 2]], reason: 'manualStop' },
  { from: 'OpenConfirm', event: { type: 'BfdDown' }, to: 'Idle', sends: [[6, 10]], reason: 'bfdDown' },
  // Established
  { from: 'Established', event: { type: 'HoldTimer_Expires' }, to: 'Idle', sends: [[4, 0]], reason: 'holdTimerExpired' },
  { from: 'Established', event: { type: 'UpdateMsgErr', subcode: 3 }, to: 'Idle', sends: [[3, 3]], reason: 'updateMessageError' },
  { from: 'Established', event: { type: 'RouteRefreshMsgErr', subcode: 1 }, to: 'Idle', sends: [[7, 1]], reason: 'routeRefreshMessageError' },
  { from: 'OpenConfirm', event: { type: 'RouteRefreshMsgErr', subcode: 1 }, to: 'Idle', sends: [[5, 2]], reason: 'fsmError' },
  { from: 'Established', event: { type: 'BGPOpen', open: peerOpen() }, to: 'Idle', sends: [[5, 3]], reason: 'fsmError' },
  { from: 'Established', event: { type: 'BGPOpenMsgErr', subcode: 2 }, to: 'Idle', sends: [[5, 3]], reason: 'fsmError' },
  { from: 'Established', event: { type: 'BGPHeaderErr', subcode: 1 }, to: 'Idle', sends: [[1, 1]], reason: 'messageHeaderError' },
  { from: 'Established', event: { type: 'IdleHoldTimer_Expires' }, to: 'Idle', sends: [[5, 0]], reason: 'fsmError' },
  { from: 'Established', event: { type: 'TcpConnectionFails' }, to: 'Idle', sends: [], reason: 'tcpConnectionFails' },
  { from: 'Established', event: { type: 'NotifMsg', notification: { code: 6, subcode: 4, data: new Uint8Array() } }, to: 'Idle', sends: [], reason: 'notificationReceived' },
  { from: 'Established', event: { type: 'NotifMsgVerErr' }, to: 'Idle', sends: [], reason: 'notificationVersionError' },
  { from: 'Established', event: { type: 'OpenCollisionDump' }, to: 'Idle', sends: [[6, 7]], reason: 'collisionResolution' },
  { from: 'Established', event: { type: 'AutomaticStop', subcode: 1 }, to: 'Idle', sends: [[6, 1]], reason: 'automaticStop' },
  // RFC 5882 §4.2, RFC 9384: Cease/BFD Down.
  { from: 'Established', event: { type: 'BfdDown' }, to: 'Idle', sends: [[6, 10]], reason: 'bfdDown' },
];

describe('transition: errors', () => {
  it.each(ERROR_CASES.map((c) => [`${c.from} + ${c.event.type} -> ${c.to} ${JSON.stringify(c.sends)}`, c] as const))(
    '%s',
    (_title, c) => {
      const before = run(TO[c.from]).state;
      const { state, actions } = transition(before, c.event, config);
      expect(state.name).toBe(c.to);
      expect(notificationsOf(actions)).toEqual(c.sends);
      // The NOTIFICATION goes out before the connection is closed.
      if (c.sends.length > 0) expect(typesOf(actions).indexOf('sendNotification')).toBeLessThan(typesOf(actions).indexOf('dropTcp'));
      expect(downOf(actions)).toMatchObject({ type: 'sessionDown', from: c.from, reason: c.reason });
      expect(actions).toContainEqual({ type: 'releaseResources' });
      expect(state.negotiated).toBeUndefined();
    },
  );

  it('restarts with the usual backoff after BFD Down, and ignores BFD Down before OpenSent', () => {
    const down = run([...TO.Established, { type: 'BfdDown' }]);
    expect(down.state.enabled).toBe(true);
    expect(timersStarted(down.actions)).toEqual([['IdleHoldTimer', 1000]]);
    for (const from of ['Idle', 'Connect', 'Active'] as const) {
      const before = run(TO[from]).state;
      expect(transition(before, { type: 'BfdDown' }, config)).toEqual({ state: before, actions: [] });
    }
  });

  it('tells the peer which version it supports when the version is wrong', () => {
    const { actions } = run([...TO.OpenSent, bad({ version: 5 })]);
    expect(actions).toContainEqual({ type: 'sendNotification', code: 2, subcode: 1, data: Uint8Array.of(0, 4) });
  });

  it('passes header-error data through to the NOTIFICATION', () => {
    const { actions } = run([...TO.Established, { type: 'BGPHeaderErr', subcode: 2, data: Uint8Array.of(0, 13) }]);
    expect(actions).toContainEqual({ type: 'sendNotification', code: 1, subcode: 2, data: Uint8Array.of(0, 13) });
  });

  it('restarts automatically after a failure but not after a stop or a collision dump', () => {
    const failed = run([...TO.Established, { type: 'HoldTimer_Expires' }]);
    expect(failed.state.enabled).toBe(true);
    expect(timersStarted(failed.actions)).toEqual([['IdleHoldTimer', 1000]]);
    const restarted = transition(failed.state, { type: 'IdleHoldTimer_Expires' }, config);
    expect(restarted.state.name).toBe('Connect');
    expect(typesOf(restarted.actions)).toContain('connect');

    for (const stop of [{ type: 'ManualStop' }, { type: 'AutomaticStop', subcode: 2 }, { type: 'OpenCollisionDump' }] as const) {
      const stopped = run([...TO.OpenConfirm, stop]);
      expect(stopped.state.enabled).toBe(false);
      expect(timersStarted(stopped.actions)).toEqual([]);
      expect(transition(stopped.state, { type: 'IdleHoldTimer_Expires' }, config)).toEqual({ state: stopped.state, actions: [] });
    }
  });

  it('does not restart automatically when autoRestart is off', () => {
    const manual = sessionConfig({ ...config, autoRestart: false });
    const { state, actions } = run([...TO.Connect, { type: 'TcpConnectionFails' }], manual);
    expect(state).toMatchObject({ name: 'Idle', enabled: true, connectRetryCounter: 1 });
    expect(timersStarted(actions)).toEqual([]);
    expect(run([{ type: 'AutomaticStart' }], manual, state).state.name).toBe('Connect');
  });

  it('cancels a pending automatic restart on ManualStop in Idle', () => {
    const failed = run([...TO.Connect, { type: 'TcpConnectionFails' }]).state;
    const stopped = transition(failed, { type: 'ManualStop' }, config);
    expect(stopped.state).toEqual({ name: 'Idle', connectRetryCounter: 0, passive: false, enabled: false });
    expect(stopped.actions).toEqual([{ type: 'stopTimer', name: 'IdleHoldTimer' }]);
  });

  it('refuses connections while Idle', () => {
    expect(typesOf(run([{ type: 'TcpConnection_Valid' }]).actions)).toEqual(['rejectIncoming']);
    expect(typesOf(run([{ type: 'TcpConnectionConfirmed' }]).actions)).toEqual(['rejectIncoming']);
    expect(typesOf(run([{ type: 'Tcp_CR_Acked' }]).actions)).toEqual(['dropTcp']);
    expect(run([{ type: 'TcpConnectionConfirmed' }]).state).toEqual(initialSessionState);
  });
});

describe('transition: second connections (RFC 4271 6.8)', () => {
  it.each([['OpenSent'], ['OpenConfirm']] as const)('tracks a second connection in %s for collision resolution', (from) => {
    for (const type of ['TcpConnection_Valid', 'Tcp_CR_Acked', 'TcpConnectionConfirmed'] as const) {
      const before = run(TO[from]).state;
      expect(transition(before, { type }, config)).toEqual({ state: before, actions: [{ type: 'secondConnection', handling: 'track' }] });
    }
  });

  it('closes a second connection while Established', () => {
    const before = run(TO.Established).state;
    expect(transition(before, { type: 'TcpConnectionConfirmed' }, config)).toEqual({
      state: before,
      actions: [{ type: 'secondConnection', handling: 'close' }],
    });
  });
});

describe('transition: connect retry backoff', () => {
  it('retries a connect that does not complete after 1, 2, 4, ... seconds, capped', () => {
    const capped = sessionConfig({ ...config, connectRetryMaxMs: 10_000 });
    let { state, actions } = run(TO.Connect, capped);
    const delays = [timersStarted(actions)[0]?.[1]];
    for (let i = 0; i < 6; i++) {
      ({ state, actions } = transition(state, { type: 'ConnectRetryTimer_Expires' }, capped));
      expect(typesOf(actions)).toEqual(['dropTcp', 'startTimer', 'connect']);
      delays.push(timersStarted(actions)[0]?.[1]);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(state.connectRetryCounter).toBe(6);
  });

  it('waits 1, 2, 4, ... seconds before reconnecting after refused connections, capped', () => {
    const capped = sessionConfig({ ...config, connectRetryMaxMs: 5_000 });
    let state = run(TO.Connect, capped).state;
    const holds: number[] = [];
    for (let i = 0; i < 5; i++) {
      const failed = transition(state, { type: 'TcpConnectionFails' }, capped);
      holds.push(...timersStarted(failed.actions).map(([, ms]) => ms));
      state = transition(failed.state, { type: 'IdleHoldTimer_Expires' }, capped).state;
      expect(state.name).toBe('Connect');
    }
    expect(holds).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('starts the backoff over once the session is established', () => {
    let state = run(TO.Connect).state;
    for (let i = 0; i < 3; i++) state = run([{ type: 'TcpConnectionFails' }, { type: 'IdleHoldTimer_Expires' }], config, state).state;
    expect(state.connectRetryCounter).toBe(3);
    state = run([{ type: 'Tcp_CR_Acked' }, { type: 'BGPOpen', open: peerOpen() }, { type: 'KeepAliveMsg' }], config, state).state;
    expect(state).toMatchObject({ name: 'Established', connectRetryCounter: 0 });
    const down = transition(state, { type: 'HoldTimer_Expires' }, config);
    expect(timersStarted(down.actions)).toEqual([['IdleHoldTimer', 1000]]);
  });

  it('resets the counter on ManualStart but keeps it on AutomaticStart', () => {
    const failed = run([...TO.Connect, { type: 'TcpConnectionFails' }, { type: 'IdleHoldTimer_Expires' }, { type: 'TcpConnectionFails' }]).state;
    expect(failed.connectRetryCounter).toBe(2);
    expect(run([{ type: 'AutomaticStart' }], config, failed).state.connectRetryCounter).toBe(2);
    expect(run([{ type: 'ManualStart' }], config, failed).state.connectRetryCounter).toBe(0);
  });

  it('retries from Active after a TCP failure in OpenSent', () => {
    const { state, actions } = run([...TO.OpenSent, { type: 'TcpConnectionFails' }]);
    expect(state).toMatchObject({ name: 'Active', connectRetryCounter: 1 });
    expect(actions).toEqual([
      { type: 'stopTimer', name: 'HoldTimer' },
      { type: 'dropTcp' },
      { type: 'startTimer', name: 'ConnectRetryTimer', ms: 1000 },
    ]);
    const retry = transition(state, { type: 'ConnectRetryTimer_Expires' }, config);
    expect(retry.state.name).toBe('Connect');
    expect(retry.actions).toEqual([{ type: 'startTimer', name: 'ConnectRetryTimer', ms: 2000 }, { type: 'connect' }]);
  });
});

const STATE_NAMES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

const arbNegotiated = fc.record({
  holdTimeSec: fc.constantFrom(0, 3, 90),
  keepaliveMs: fc.constantFrom(0, 1000, 30_000),
  peerAsn: fc.integer({ min: 1, max: 0xffff_ffff }),
  peerBgpId: fc.integer({ min: 1, max: 0xffff_ffff }),
  ibgp: fc.boolean(),
  families: fc.constant([{ afi: 1, safi: 1 }]),
  fourOctetAsn: fc.boolean(),
  routeRefresh: fc.boolean(),
  extendedMessage: fc.boolean(),
});

const arbState: fc.Arbitrary<SessionState> = fc.record(
  {
    name: fc.constantFrom(...STATE_NAMES),
    connectRetryCounter: fc.nat({ max: 100 }),
    passive: fc.boolean(),
    enabled: fc.boolean(),
    negotiated: arbNegotiated,
  },
  { requiredKeys: ['name', 'connectRetryCounter', 'passive', 'enabled'] },
);

const arbOpen: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant('open' as const),
  version: fc.constantFrom(3, 4, 4, 4),
  asn: fc.constantFrom(64513, 23456, 1),
  holdTime: fc.constantFrom(0, 1, 2, 3, 30, 90, 65535),
  bgpId: fc.constantFrom(0, LOCAL_ID, PEER_ID, 0xffff_ffff),
  capabilities: fc.record({ fourOctetAsn: fc.constantFrom(64513, 4_200_000_000) }, { requiredKeys: [] }),
});

const arbEvent: fc.Arbitrary<SessionEvent> = fc.oneof(
  fc.constantFrom<SessionEvent>(
    { type: 'ManualStart' },
    { type: 'ManualStop' },
    { type: 'AutomaticStart' },
    { type: 'ManualStart_with_PassiveTcpEstablishment' },
    { type: 'AutomaticStart_with_PassiveTcpEstablishment' },
    { type: 'AutomaticStop', subcode: 1 },
    { type: 'ConnectRetryTimer_Expires' },
    { type: 'HoldTimer_Expires' },
    { type: 'KeepaliveTimer_Expires' },
    { type: 'DelayOpenTimer_Expires' },
    { type: 'IdleHoldTimer_Expires' },
    { type: 'TcpConnection_Valid' },
    { type: 'Tcp_CR_Invalid' },
    { type: 'Tcp_CR_Acked' },
    { type: 'TcpConnectionConfirmed' },
    { type: 'TcpConnectionFails' },
    { type: 'BGPHeaderErr', subcode: 1 },
    { type: 'BGPOpenMsgErr', subcode: 4 },
    { type: 'OpenCollisionDump' },
    { type: 'NotifMsgVerErr' },
    { type: 'NotifMsg', notification: { code: 6, subcode: 2, data: new Uint8Array() } },
    { type: 'KeepAliveMsg' },
    { type: 'UpdateMsg', update: {} },
    { type: 'UpdateMsgErr', subcode: 1 },
  ),
  arbOpen.map((open): SessionEvent => ({ type: 'BGPOpen', open })),
);

describe('transition: properties', () => {
  it('goes to Idle on ManualStop from any state, never throwing, never to restart', () => {
    fc.assert(
      fc.property(arbState, (state) => {
        const { state: next, actions } = transition(state, { type: 'ManualStop' }, config);
        expect(next).toEqual({ name: 'Idle', connectRetryCounter: 0, passive: state.passive, enabled: false });
        expect(timersStarted(actions)).toEqual([]);
      }),
    );
  });

  it('survives any event sequence with a defined state and consistent bookkeeping', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 60 }), (events) => {
        let state = initialSessionState;
        for (const event of events) {
          const result = transition(state, event, config);
          state = result.state;
          expect(STATE_NAMES).toContain(state.name);
          expect(Number.isInteger(state.connectRetryCounter) && state.connectRetryCounter >= 0).toBe(true);
          // Only OpenConfirm and Established carry negotiated parameters.
          expect(state.negotiated !== undefined).toBe(state.name === 'OpenConfirm' || state.name === 'Established');
          // A NOTIFICATION is always followed by closing the connection.
          const types = typesOf(result.actions);
          if (types.includes('sendNotification')) expect(types.indexOf('dropTcp')).toBeGreaterThan(types.indexOf('sendNotification'));
          // Idle holds no connection: every move to Idle releases it.
          if (state.name === 'Idle' && event.type !== 'ManualStop' && types.includes('sessionDown')) expect(types).toContain('releaseResources');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws from arbitrary (even inconsistent) states', () => {
    fc.assert(
      fc.property(arbState, arbEvent, (state, event) => {
        const { state: next } = transition(state, event, config);
        expect(STATE_NAMES).toContain(next.name);
      }),
      { numRuns: 1000 },
    );
  });
});
