import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../clock.js';
import { resolveCollision } from './collision.js';
import { sessionConfig } from './open.js';
import { Session, type IoAction } from './session.js';
import type { OpenMessage, SessionConfig } from './types.js';

const config = sessionConfig({ localAsn: 64512, peerAsn: 64513, localBgpId: 0x0a00_0001, holdTimeSec: 9 });

const peerOpen = (holdTime = 9): OpenMessage => ({
  type: 'open',
  version: 4,
  asn: 64513,
  holdTime,
  bgpId: 0x0a00_0002,
  capabilities: {},
});

/** A session on a FakeClock that records each action with the time it was emitted. */
function harness(cfg: SessionConfig = config, react?: (action: IoAction, session: Session) => void) {
  const clock = new FakeClock(0);
  const log: { at: number; action: IoAction }[] = [];
  const session: Session = new Session({
    config: cfg,
    clock,
    onAction: (action) => {
      log.push({ at: clock.now(), action });
      react?.(action, session);
    },
  });
  const times = (type: IoAction['type']): number[] => log.filter((e) => e.action.type === type).map((e) => e.at);
  return { clock, log, session, times };
}

function establish(session: Session): void {
  session.start();
  session.handle({ type: 'Tcp_CR_Acked' });
  session.handle({ type: 'BGPOpen', open: peerOpen() });
  session.handle({ type: 'KeepAliveMsg' });
}

describe('Session', () => {
  it('sends a KEEPALIVE every hold time / 3 while the peer keeps the session alive', () => {
    const { clock, session, times } = harness();
    establish(session);
    expect(session.state.name).toBe('Established');
    for (let t = 0; t < 12; t++) {
      clock.advance(1000);
      // The peer's keepalives restart our hold timer.
      if (t % 3 === 2) session.handle({ type: 'KeepAliveMsg' });
    }
    // One on accepting the OPEN, then every 3 s of the negotiated 9 s hold time.
    expect(times('sendKeepalive')).toEqual([0, 3000, 6000, 9000, 12_000]);
    expect(session.state.name).toBe('Established');
  });

  it('sends Hold Timer Expired and goes to Idle when the peer falls silent', () => {
    const { clock, session, log, times } = harness();
    establish(session);
    clock.advance(8999);
    expect(session.state.name).toBe('Established');
    clock.advance(1);
    expect(session.state.name).toBe('Idle');
    // The hold timer fires before the keepalive due at the same time, which is then cancelled.
    expect(log.filter((e) => e.at === 9000).map((e) => e.action)).toEqual([
      { type: 'sendNotification', code: 4, subcode: 0, data: new Uint8Array(0) },
      { type: 'dropTcp' },
      { type: 'releaseResources' },
      { type: 'sessionDown', from: 'Established', reason: 'holdTimerExpired', notification: { code: 4, subcode: 0, data: new Uint8Array(0) } },
    ]);
    expect(session.timerRunning('KeepaliveTimer')).toBe(false);
    expect(session.timerRunning('HoldTimer')).toBe(false);
    // It restarts itself after the first backoff step.
    expect(session.timerRunning('IdleHoldTimer')).toBe(true);
    clock.advance(1000);
    expect(session.state.name).toBe('Connect');
    expect(times('connect')).toEqual([0, 10_000]);
  });

  it('uses the large hold timer while waiting for the OPEN', () => {
    const { clock, session } = harness();
    session.start();
    session.handle({ type: 'Tcp_CR_Acked' });
    clock.advance(239_999);
    expect(session.state.name).toBe('OpenSent');
    clock.advance(1);
    expect(session.state.name).toBe('Idle');
  });

  it('retries a connect that never completes after 1, 2, 4, 8 s, capped', () => {
    const { clock, session, times } = harness(sessionConfig({ ...config, connectRetryMaxMs: 8000 }));
    session.start();
    clock.advance(40_000);
    expect(times('connect')).toEqual([0, 1000, 3000, 7000, 15_000, 23_000, 31_000, 39_000]);
    expect(session.state.name).toBe('Connect');
  });

  it('backs off 1, 2, 4 s between refused connects, even when the failure is reported synchronously', () => {
    const { clock, session, times } = harness(config, (action, s) => {
      if (action.type === 'connect') s.handle({ type: 'TcpConnectionFails' });
    });
    session.start();
    expect(session.state.name).toBe('Idle');
    clock.advance(15_000);
    expect(times('connect')).toEqual([0, 1000, 3000, 7000, 15_000]);
  });

  it('runs queued events after the current one, in order', () => {
    const order: string[] = [];
    const { session } = harness(config, (action, s) => {
      order.push(action.type);
      if (action.type === 'sendOpen') s.handle({ type: 'BGPOpen', open: peerOpen() });
    });
    session.start();
    session.handle({ type: 'TcpConnectionConfirmed' });
    expect(session.state.name).toBe('OpenConfirm');
    expect(order).toEqual(['listen', 'connect', 'sendOpen', 'sendKeepalive']);
  });

  it('stops with Cease and cancels every timer', () => {
    const { clock, session, log } = harness();
    establish(session);
    session.stop();
    expect(log.at(-1)?.action).toMatchObject({ type: 'sessionDown', reason: 'manualStop' });
    expect(log).toContainEqual({ at: 0, action: { type: 'sendNotification', code: 6, subcode: 2, data: new Uint8Array(0) } });
    expect(clock.pending).toBe(0);
  });

  it('stops reacting after dispose', () => {
    const { clock, session, log } = harness();
    session.start();
    session.dispose();
    expect(clock.pending).toBe(0);
    const before = log.length;
    session.handle({ type: 'Tcp_CR_Acked' });
    expect(log.length).toBe(before);
  });

  it('reports every transition', () => {
    const seen: string[] = [];
    const session = new Session({
      config,
      clock: new FakeClock(),
      onAction: () => undefined,
      onTransition: ({ from, to, event }) => seen.push(`${from.name} -${event.type}-> ${to.name}`),
    });
    establish(session);
    expect(seen).toEqual(['Idle -ManualStart-> Connect', 'Connect -Tcp_CR_Acked-> OpenSent', 'OpenSent -BGPOpen-> OpenConfirm', 'OpenConfirm -KeepAliveMsg-> Established']);
  });
});

describe('Session: connection collision', () => {
  /** Our outgoing and the peer's incoming connection, both past OpenSent; resolve and dump the loser. */
  function collide(localBgpId: number) {
    const cfg = sessionConfig({ ...config, localBgpId });
    const initiated = harness(cfg);
    const accepted = harness(cfg);
    initiated.session.start();
    initiated.session.handle({ type: 'Tcp_CR_Acked' });
    accepted.session.start(true);
    accepted.session.handle({ type: 'TcpConnectionConfirmed' });
    // The OPEN arrives on the outgoing connection first.
    initiated.session.handle({ type: 'BGPOpen', open: peerOpen() });
    const decision = resolveCollision({
      localBgpId,
      remoteBgpId: peerOpen().bgpId,
      localAsn: cfg.localAsn,
      remoteAsn: cfg.peerAsn as number,
      initiated: initiated.session.state.name,
      accepted: accepted.session.state.name,
    });
    if (!decision.collision) throw new Error('expected a collision');
    const loser = decision.dump === 'initiated' ? initiated : accepted;
    const winner = decision.keep === 'initiated' ? initiated : accepted;
    loser.session.handle({ type: 'OpenCollisionDump' });
    if (winner === accepted) winner.session.handle({ type: 'BGPOpen', open: peerOpen() });
    winner.session.handle({ type: 'KeepAliveMsg' });
    return { decision, loser, winner };
  }

  it.each([
    ['the peer has the higher identifier: its connection survives', 0x0a00_0001, 'accepted'],
    ['we have the higher identifier: our connection survives', 0x0a00_0003, 'initiated'],
  ])('%s', (_title, localBgpId, kept) => {
    const { decision, loser, winner } = collide(localBgpId);
    expect(decision.collision && decision.keep).toBe(kept);
    expect(winner.session.state.name).toBe('Established');
    expect(loser.session.state).toMatchObject({ name: 'Idle', enabled: false });
    expect(loser.log.map((e) => e.action)).toContainEqual({ type: 'sendNotification', code: 6, subcode: 7, data: new Uint8Array(0) });
    expect(loser.clock.pending).toBe(0);
  });
});
