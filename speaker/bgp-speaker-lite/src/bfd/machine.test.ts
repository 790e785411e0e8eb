import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FakeClock, type TimerHandle } from '../clock.js';
import { BfdDiag, type BfdControlPacket } from './codec.js';
import {
  SLOW_TX_US,
  adminDown,
  adminUp,
  controlPacket,
  createBfdSession,
  detectionTimeMs,
  jitteredIntervalMs,
  receive,
  setParameters,
  tick,
  transmitIntervalMs,
  type BfdResult,
  type BfdSessionConfig,
  type BfdSessionState,
} from './machine.js';

const noJitter = (): number => 0;

interface Node {
  name: string;
  state: BfdSessionState;
  /** 'up@t', 'down(diag)@t' */
  events: string[];
  /** Packets as sent, with the time. */
  sent: { at: number; packet: BfdControlPacket }[];
  timer?: TimerHandle;
  peer?: Node;
  /** Packets from this node reach its peer. */
  linkUp: boolean;
}

/** Two machines on a FakeClock joined by an in-memory link with 1 ms of latency. */
function pair(a: BfdSessionConfig, b: BfdSessionConfig, random = noJitter) {
  const clock = new FakeClock(0);
  const node = (name: string, config: BfdSessionConfig): Node => ({
    name,
    state: createBfdSession(config, 0),
    events: [],
    sent: [],
    linkUp: true,
  });
  const A = node('A', a);
  const B = node('B', b);
  A.peer = B;
  B.peer = A;

  const apply = (n: Node, result: BfdResult): void => {
    n.state = result.state;
    for (const action of result.actions) {
      if (action.type === 'send') {
        n.sent.push({ at: clock.now(), packet: action.packet });
        const to = n.peer;
        if (to !== undefined && n.linkUp) clock.setTimeout(() => apply(to, receive(to.state, action.packet, clock.now(), random)), 1);
      } else if (action.type === 'sessionUp') n.events.push(`up@${clock.now()}`);
      else if (action.type === 'sessionDown') n.events.push(`down(${action.diag})@${clock.now()}`);
      else {
        if (n.timer !== undefined) clock.clearTimeout(n.timer);
        n.timer = clock.setTimeout(() => apply(n, tick(n.state, clock.now(), random)), action.at - clock.now());
      }
    }
  };
  const act = (n: Node, f: (s: BfdSessionState) => BfdResult): void => apply(n, f(n.state));
  act(A, (s) => tick(s, 0, random));
  act(B, (s) => tick(s, 0, random));
  return { clock, A, B, act };
}

const fast = (localDiscriminator: number, overrides: Partial<BfdSessionConfig> = {}): BfdSessionConfig => ({
  localDiscriminator,
  desiredMinTxUs: 100_000,
  requiredMinRxUs: 100_000,
  detectMult: 3,
  ...overrides,
});

const states = (n: Node): string => `${n.state.sessionState}`;

describe('BFD machine: session establishment', () => {
  it('comes Up with the Down -> Init -> Up three-way handshake', () => {
    // B is passive, so the exchange is strictly: A Down, B Init, A Up.
    const { clock, A, B } = pair(fast(1), fast(2, { passive: true }));
    expect(B.sent).toEqual([]);
    clock.advance(1);
    expect([states(A), states(B)]).toEqual(['Down', 'Init']);
    clock.advance(2000);
    expect([states(A), states(B)]).toEqual(['Up', 'Up']);
    const flow = [...A.sent.map((s) => ({ ...s, from: 'A' })), ...B.sent.map((s) => ({ ...s, from: 'B' }))]
      .sort((x, y) => x.at - y.at)
      .map((s) => `${s.from}:${s.packet.state}`)
      .filter((step, i, all) => step !== all[i - 1])
      .slice(0, 3);
    expect(flow).toEqual(['A:Down', 'B:Init', 'A:Up']);
    expect(A.events).toHaveLength(1);
    expect(B.events).toHaveLength(1);
    expect(A.state.remoteDiscriminator).toBe(2);
    expect(B.state.remoteDiscriminator).toBe(1);
  });

  it('sends slowly (1 s) until Up, then at the negotiated rate', () => {
    const { clock, A } = pair(fast(1), fast(2));
    // Both start Down: Down+Down -> Init on both, Init -> Up at the next 1 s packets.
    clock.advance(999);
    expect(A.sent.map((s) => s.at)).toEqual([0]);
    expect(A.sent[0]?.packet.desiredMinTxUs).toBe(SLOW_TX_US);
    clock.advance(2);
    expect(A.state.sessionState).toBe('Up');
    clock.advance(1000);
    // Periodic packets only (Final answers to the peer's Poll go out at once).
    const periodic = A.sent.filter((s) => !s.packet.final && s.at > 1001).map((s) => s.at);
    expect(new Set(periodic.slice(1).map((at, i) => at - (periodic[i] ?? NaN)))).toEqual(new Set([100]));
    expect(A.state.desiredMinTxUs).toBe(100_000);
  });

  it('polls when it goes Up (its Desired Min TX changes) and stops when the peer answers with Final', () => {
    const { clock, A, B } = pair(fast(1), fast(2));
    clock.advance(1001);
    expect(A.state.sessionState).toBe('Up');
    expect(A.state.polling).toBe(true);
    clock.advance(200);
    const polls = A.sent.filter((s) => s.packet.poll);
    expect(polls.length).toBeGreaterThan(0);
    const finals = B.sent.filter((s) => s.packet.final);
    expect(finals.map((s) => s.at)).toContain((polls[0]?.at ?? 0) + 1);
    expect(A.state.polling).toBe(false);
    expect(A.sent.some((s) => s.packet.poll && s.packet.final)).toBe(false);
  });
});

describe('BFD machine: timers', () => {
  it('negotiates 100 ms x3 against 300 ms: both transmit every 300 ms and detect in 900 ms', () => {
    const { clock, A, B } = pair(fast(1), fast(2, { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000 }));
    clock.advance(3000);
    expect([states(A), states(B)]).toEqual(['Up', 'Up']);
    expect(transmitIntervalMs(A.state)).toBe(300);
    expect(detectionTimeMs(A.state)).toBe(900);
    expect(transmitIntervalMs(B.state)).toBe(300);
    expect(detectionTimeMs(B.state)).toBe(900);
  });

  it('uses the peer Detect Mult and the larger of our Required Min RX and its Desired Min TX', () => {
    const { clock, A } = pair(fast(1), fast(2, { desiredMinTxUs: 50_000, requiredMinRxUs: 20_000, detectMult: 5 }));
    clock.advance(3000);
    expect(transmitIntervalMs(A.state)).toBe(100);
    expect(detectionTimeMs(A.state)).toBe(500);
  });

  it('goes Down with diag 1 (Control Detection Time Expired) after Detect Mult x interval of silence', () => {
    const { clock, A, B } = pair(fast(1), fast(2, { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000 }));
    clock.advance(3000);
    B.linkUp = false;
    clock.advance(1);
    const lastHeard = A.state.lastRxAt ?? NaN;
    clock.advance(lastHeard + 899 - clock.now());
    expect(A.state.sessionState).toBe('Up');
    clock.advance(1);
    expect(A.state).toMatchObject({ sessionState: 'Down', localDiag: BfdDiag.ControlDetectionTimeExpired, remoteDiscriminator: 0 });
    expect(A.events.at(-1)).toBe(`down(1)@${lastHeard + 900}`);
    // A tells B (still reachable from A) that it is Down, at the old rate, before B's own
    // detection time passes; B follows with diag 3 (Neighbor Signaled Session Down).
    clock.advance(300);
    expect(B.events).toEqual([expect.stringMatching(/^up@/), expect.stringMatching(/^down\(3\)@/)]);
  });

  it('comes back Up once the link heals', () => {
    const { clock, A, B } = pair(fast(1), fast(2));
    clock.advance(2000);
    B.linkUp = false;
    clock.advance(2000);
    expect(states(A)).toBe('Down');
    B.linkUp = true;
    clock.advance(5000);
    expect([states(A), states(B)]).toEqual(['Up', 'Up']);
  });

  it('jitters each interval to 75-100%, or 75-90% with Detect Mult 1 (RFC 5880 6.8.7)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 2, max: 255 }), (r, mult) => {
        const many = jitteredIntervalMs(1000, mult, () => r);
        expect(many).toBeGreaterThanOrEqual(750);
        expect(many).toBeLessThanOrEqual(1000);
        const one = jitteredIntervalMs(1000, 1, () => r);
        expect(one).toBeGreaterThanOrEqual(750);
        expect(one).toBeLessThanOrEqual(900);
      }),
    );
  });

  it('keeps the actual gaps between packets within the jitter bounds', () => {
    const { clock, A, B } = pair(fast(1), fast(2, { detectMult: 1 }), Math.random);
    clock.advance(5000);
    expect([states(A), states(B)]).toEqual(['Up', 'Up']);
    const gaps = (n: Node): number[] =>
      n.sent
        .filter((s) => !s.packet.final)
        .slice(-30)
        .map((s, i, all) => s.at - (all[i - 1]?.at ?? NaN))
        .slice(1);
    expect(Math.min(...gaps(A))).toBeGreaterThanOrEqual(75);
    expect(Math.max(...gaps(A))).toBeLessThanOrEqual(100);
    // B's Detect Mult is 1: at most 90% of the interval.
    expect(Math.min(...gaps(B))).toBeGreaterThanOrEqual(75);
    expect(Math.max(...gaps(B))).toBeLessThanOrEqual(90);
  });

  it('defers a slower Desired Min TX while Up until the Poll Sequence ends (RFC 5880 6.8.3)', () => {
    let s = createBfdSession(fast(1), 0);
    const peer = (p: Partial<BfdControlPacket>): BfdControlPacket => ({ ...controlPacket(createBfdSession(fast(2), 0)), yourDiscriminator: 1, ...p });
    s = receive(s, peer({ state: 'Init' }), 10, noJitter).state;
    expect(s.sessionState).toBe('Up');
    s = receive(s, peer({ state: 'Up', final: true }), 20, noJitter).state;
    expect(s.polling).toBe(false);
    s = setParameters(s, { desiredMinTxUs: 500_000, requiredMinRxUs: 50_000 }, 30, noJitter).state;
    expect(s).toMatchObject({ polling: true, desiredMinTxUs: 500_000, txDesiredUs: 100_000, requiredMinRxUs: 50_000, detectMinRxUs: 100_000 });
    expect(transmitIntervalMs(s)).toBe(100);
    const polled = tick(s, 1000, noJitter);
    expect(polled.actions[0]).toMatchObject({ type: 'send', packet: { poll: true, desiredMinTxUs: 500_000, requiredMinRxUs: 50_000 } });
    s = receive(polled.state, peer({ state: 'Up', final: true }), 1001, noJitter).state;
    expect(s).toMatchObject({ polling: false, txDesiredUs: 500_000, detectMinRxUs: 50_000 });
    expect(transmitIntervalMs(s)).toBe(500);
  });
});

describe('BFD machine: reception', () => {
  const base = createBfdSession(fast(7), 0);
  const from = (p: Partial<BfdControlPacket>): BfdControlPacket => ({ ...controlPacket(createBfdSession(fast(9), 0)), ...p });

  it('answers a Poll at once with Final and without Poll, whatever the transmit timer says', () => {
    const polling = { ...base, polling: true };
    const { actions } = receive(polling, from({ poll: true }), 5, noJitter);
    expect(actions[0]).toMatchObject({ type: 'send', packet: { final: true, poll: false, yourDiscriminator: 9 } });
  });

  it('discards packets for another discriminator and packets failing the field checks', () => {
    expect(receive(base, from({ yourDiscriminator: 8, state: 'Up' }), 1).discarded).toBe('discriminatorMismatch');
    expect(receive(base, from({ detectMult: 0 }), 1).discarded).toBe('zeroDetectMult');
    expect(receive(base, from({ state: 'Init' }), 1).discarded).toBe('zeroYourDiscriminatorNotDown');
    expect(receive(base, from({}), 1).state.sessionState).toBe('Init');
  });

  it('stays silent in the Passive role until it has heard the peer', () => {
    let s = createBfdSession(fast(7, { passive: true }), 0);
    const first = tick(s, 0, noJitter);
    expect(first.actions.filter((a) => a.type === 'send')).toEqual([]);
    s = receive(first.state, from({}), 10, noJitter).state;
    expect(tick(s, 1000, noJitter).actions[0]).toMatchObject({ type: 'send', packet: { state: 'Init', yourDiscriminator: 9 } });
  });

  it('stops periodic transmission when the peer runs Demand mode and both are Up', () => {
    let s = receive(base, from({ state: 'Init', yourDiscriminator: 7 }), 0, noJitter).state;
    s = receive(s, from({ state: 'Up', yourDiscriminator: 7, final: true, demand: true }), 1, noJitter).state;
    expect(s).toMatchObject({ sessionState: 'Up', remoteDemand: true, polling: false });
    expect(s.nextTxAt).toBeLessThan(10);
    expect(tick(s, 10, noJitter).actions.filter((a) => a.type === 'send')).toEqual([]);
  });

  it('sends nothing periodically while the peer asks for no packets (Required Min RX 0)', () => {
    const s = receive(base, from({ requiredMinRxUs: 0 }), 0, noJitter).state;
    expect(tick(s, 5000, noJitter).actions.map((a) => a.type)).toEqual(['schedule']);
  });

  it('forgets the remote discriminator after a Detection Time of silence, even while Down', () => {
    const heard = receive(base, from({ state: 'AdminDown' }), 0, noJitter).state;
    expect(heard).toMatchObject({ sessionState: 'Down', remoteDiscriminator: 9 });
    const later = tick(heard, 3000, noJitter).state;
    expect(later).toMatchObject({ sessionState: 'Down', remoteDiscriminator: 0 });
    expect(later.lastRxAt).toBeUndefined();
  });

  it('follows the RFC 5880 6.8.6 state table', () => {
    const cases: [BfdSessionState['sessionState'], BfdControlPacket['state'], string, number][] = [
      ['Down', 'AdminDown', 'Down', 0],
      ['Down', 'Down', 'Init', 0],
      ['Down', 'Init', 'Up', 0],
      ['Down', 'Up', 'Down', 0],
      ['Init', 'AdminDown', 'Down', 3],
      ['Init', 'Down', 'Init', 0],
      ['Init', 'Init', 'Up', 0],
      ['Init', 'Up', 'Up', 0],
      ['Up', 'AdminDown', 'Down', 3],
      ['Up', 'Down', 'Down', 3],
      ['Up', 'Init', 'Up', 0],
      ['Up', 'Up', 'Up', 0],
    ];
    for (const [local, remote, expected, diag] of cases) {
      const s = { ...base, sessionState: local };
      const next = receive(s, from({ state: remote, yourDiscriminator: 7 }), 0, noJitter).state;
      expect({ local, remote, state: next.sessionState, diag: next.localDiag }).toEqual({ local, remote, state: expected, diag });
    }
  });
});

describe('BFD machine: administrative control', () => {
  it('goes AdminDown, tells the peer (which goes Down with diag 3), and comes back with adminUp', () => {
    const { clock, A, B, act } = pair(fast(1), fast(2));
    clock.advance(2000);
    expect([states(A), states(B)]).toEqual(['Up', 'Up']);
    act(A, (s) => adminDown(s, clock.now(), undefined, noJitter));
    expect(A.state).toMatchObject({ sessionState: 'AdminDown', localDiag: BfdDiag.AdministrativelyDown });
    expect(A.events.at(-1)).toBe(`down(7)@${clock.now()}`);
    // The AdminDown packet reaches B within the old 100 ms interval, before B's 300 ms
    // detection time, so B goes Down with diag 3, not 1.
    clock.advance(101);
    expect(B.state).toMatchObject({ sessionState: 'Down', localDiag: BfdDiag.NeighborSignaledSessionDown });
    clock.advance(1000);
    expect(A.sent.at(-1)?.packet).toMatchObject({ state: 'AdminDown', diag: 7 });
    // While AdminDown, A ignores the peer entirely.
    expect(states(A)).toBe('AdminDown');
    act(A, (s) => adminUp(s, clock.now(), noJitter));
    expect(states(A)).toBe('Down');
    clock.advance(3000);
    expect([states(A), states(B)]).toEqual(['Up', 'Up']);
  });

  it('can start AdminDown and rejects invalid configuration', () => {
    expect(createBfdSession(fast(1), 0, { adminDown: true })).toMatchObject({ sessionState: 'AdminDown', localDiag: 7 });
    expect(() => createBfdSession(fast(0), 0)).toThrow(/localDiscriminator 0/);
    expect(() => createBfdSession(fast(1, { detectMult: 0 }), 0)).toThrow(/detectMult 0/);
    expect(() => createBfdSession(fast(1, { desiredMinTxUs: 0 }), 0)).toThrow(/desiredMinTxUs 0/);
  });
});

describe('BFD machine: properties', () => {
  const arbPacket: fc.Arbitrary<BfdControlPacket> = fc.record({
    diag: fc.integer({ min: 0, max: 31 }),
    state: fc.constantFrom('AdminDown' as const, 'Down' as const, 'Init' as const, 'Up' as const),
    poll: fc.boolean(),
    final: fc.boolean(),
    controlPlaneIndependent: fc.boolean(),
    authenticationPresent: fc.boolean(),
    demand: fc.boolean(),
    multipoint: fc.boolean(),
    detectMult: fc.integer({ min: 0, max: 255 }),
    myDiscriminator: fc.constantFrom(0, 9, 10),
    yourDiscriminator: fc.constantFrom(0, 7, 8),
    desiredMinTxUs: fc.constantFrom(0, 1, 50_000, 1_000_000),
    requiredMinRxUs: fc.constantFrom(0, 1, 50_000, 1_000_000),
    requiredMinEchoRxUs: fc.constant(0),
  });
  const arbStep = fc.oneof(
    fc.record({ kind: fc.constant('rx' as const), packet: arbPacket, dt: fc.integer({ min: 0, max: 2000 }) }),
    fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 5000 }) }),
    fc.record({ kind: fc.constantFrom('adminDown' as const, 'adminUp' as const), dt: fc.constant(0) }),
  );

  it('never throws, always schedules a future tick, and never sends Poll with Final', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 80 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (steps, r) => {
        let s = createBfdSession(fast(7), 0);
        let now = 0;
        for (const step of steps) {
          now += step.dt;
          const result =
            step.kind === 'rx'
              ? receive(s, step.packet, now, () => r)
              : step.kind === 'tick'
                ? tick(s, now, () => r)
                : step.kind === 'adminDown'
                  ? adminDown(s, now, undefined, () => r)
                  : adminUp(s, now, () => r);
          s = result.state;
          const last = result.actions.at(-1);
          expect(last?.type).toBe('schedule');
          for (const a of result.actions) if (a.type === 'send') expect(a.packet.poll && a.packet.final).toBe(false);
          if (s.sessionState !== 'Up') expect(s.desiredMinTxUs).toBeGreaterThanOrEqual(SLOW_TX_US);
        }
      }),
      { numRuns: 300 },
    );
  });
});
