import { describe, expect, it } from '@jest/globals';
import { ApiException, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { FakeClock } from '../core/clock.js';
import { memoryLogger, silentLogger } from '../core/log.js';
import { LeaderElector, type LeaseApi, type LeaderElectorOptions } from './leader.js';

const status = (code: number, message: string): ApiException<string> =>
  new ApiException(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', code, message }), {});

interface Net {
  /** Requests fail at once, as with a refused connection. */
  down?: boolean;
  /** Requests never answer, as with a black-holed connection. */
  hang?: boolean;
  /** Called before a replace is applied (to simulate a concurrent writer). */
  beforeReplace?: () => void;
}

/** One Lease on an in-memory API server, with optimistic concurrency like the real one. */
class FakeLeases {
  lease: V1Lease | undefined;
  rv = 0;

  api(net: Net): LeaseApi {
    const gate = async (): Promise<void> => {
      await Promise.resolve();
      if (net.hang) await new Promise<never>(() => undefined);
      if (net.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    // The server returns JSON: times come back as strings, as client-node hands them over.
    const wire = (l: V1Lease): V1Lease => JSON.parse(JSON.stringify(l)) as V1Lease;
    return {
      readNamespacedLease: async () => {
        await gate();
        if (!this.lease) throw status(404, 'leases.coordination.k8s.io "lease" not found');
        return wire(this.lease);
      },
      createNamespacedLease: async ({ body }) => {
        await gate();
        if (this.lease) throw status(409, 'leases.coordination.k8s.io "lease" already exists');
        this.lease = wire({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } });
        return wire(this.lease);
      },
      replaceNamespacedLease: async ({ body }) => {
        await gate();
        net.beforeReplace?.();
        if (!this.lease) throw status(404, 'not found');
        if (body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
          throw status(409, 'Operation cannot be fulfilled on leases.coordination.k8s.io "lease": the object has been modified');
        }
        this.lease = wire({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } });
        return wire(this.lease);
      },
    };
  }

  get holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }
}

interface Candidate {
  elector: LeaderElector;
  net: Net;
  log: string[];
  started: number[];
  stopped: number[];
  signals: AbortSignal[];
  done: Promise<void>;
}

function candidate(leases: FakeLeases, clock: FakeClock, identity: string, opts: Partial<LeaderElectorOptions> = {}): Candidate {
  const net: Net = {};
  const c: Omit<Candidate, 'done'> = {
    elector: new LeaderElector({
      kc: new KubeConfig(),
      api: leases.api(net),
      namespace: 'herald-system',
      name: 'herald-controller',
      identity,
      clock,
      log: silentLogger(),
      ...opts,
    }),
    net,
    log: [],
    started: [],
    stopped: [],
    signals: [],
  };
  const done = c.elector.run({
    onStartedLeading: (signal) => {
      c.started.push(clock.now());
      c.signals.push(signal);
      c.log.push(`started holder=${leases.holder}`);
    },
    onStoppedLeading: () => {
      c.stopped.push(clock.now());
      c.log.push(`stopped holder=${leases.holder}`);
    },
    onNewLeader: (id) => c.log.push(`leader=${id}`),
  });
  return { ...c, done };
}

describe('LeaderElector', () => {
  it('creates the Lease when there is none, leads, and renews every retry period', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const t0 = clock.now();
    const a = candidate(leases, clock, 'a');
    await clock.advanceAsync(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.leader()).toBe('a');
    expect(a.started).toEqual([t0]);
    expect(leases.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    // MicroTime on the wire: six fractional digits, as the API server requires.
    expect(String(leases.lease?.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const acquired = leases.lease?.spec?.acquireTime;
    const rv = leases.rv;
    await clock.advanceAsync(2_000);
    expect(leases.rv).toBe(rv + 1);
    expect(new Date(String(leases.lease?.spec?.renewTime)).getTime()).toBe(t0 + 2_000);
    expect(leases.lease?.spec?.acquireTime).toEqual(acquired);
    await clock.advanceAsync(20_000);
    expect(leases.rv).toBe(rv + 11);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
    await a.done;
  });

  it('lets exactly one of two candidates lead, and hands over at once when the leader stops', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate(leases, clock, 'a');
    const b = candidate(leases, clock, 'b');
    for (let i = 0; i < 60; i++) {
      await clock.advanceAsync(500);
      expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
    }
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(follower.elector.leader()).toBe(leader === a ? 'a' : 'b');
    expect(follower.started).toEqual([]);

    const tStop = clock.now();
    await leader.elector.stop();
    await leader.done;
    // Stepped down before releasing, so the successor never overlaps with it.
    expect(leader.log.slice(-2)).toEqual([`stopped holder=${leader === a ? 'a' : 'b'}`, 'leader=']);
    expect(leases.holder).toBe('');
    expect(leader.elector.isLeader()).toBe(false);

    await clock.advanceAsync(2_000);
    expect(follower.elector.isLeader()).toBe(true);
    expect(follower.started[0]! - tStop).toBeLessThanOrEqual(2_000);
    expect(leases.lease?.spec?.leaseTransitions).toBe(1);
    await follower.elector.stop();
  });

  it('steps down after renewDeadline when cut off, before a successor can take over after leaseDuration', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate(leases, clock, 'a');
    await clock.advanceAsync(0);
    const b = candidate(leases, clock, 'b');
    await clock.advanceAsync(5_000);
    expect(a.elector.isLeader()).toBe(true);
    const lastRenew = new Date(String(leases.lease?.spec?.renewTime)).getTime();
    a.net.down = true;

    await clock.advanceAsync(60_000);
    // a: no renewal since lastRenew, so it stopped at the first failed attempt past 10 s.
    expect(a.stopped).toHaveLength(1);
    expect(a.stopped[0]! - lastRenew).toBeGreaterThanOrEqual(10_000);
    expect(a.stopped[0]! - lastRenew).toBeLessThan(12_000);
    expect(a.signals[0]?.aborted).toBe(true);
    // b: took over only once the Lease had been unchanged for 15 s, as b observed it.
    expect(b.started).toHaveLength(1);
    expect(b.started[0]! - lastRenew).toBeGreaterThanOrEqual(15_000);
    expect(b.started[0]! - lastRenew).toBeLessThanOrEqual(15_000 + 2_000);
    expect(a.stopped[0]!).toBeLessThan(b.started[0]!);
    expect(leases.holder).toBe('b');

    // a's network comes back: it campaigns again, sees b, and follows.
    a.net.down = false;
    await clock.advanceAsync(10_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.elector.leader()).toBe('b');
    expect(a.log).toContain('leader=b');
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it('times out a renewal that hangs and steps down by the renew deadline', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate(leases, clock, 'a');
    await clock.advanceAsync(0);
    const lastRenew = clock.now();
    a.net.hang = true;
    await clock.advanceAsync(10_000);
    expect(a.stopped).toEqual([lastRenew + 10_000]);
    expect(a.elector.isLeader()).toBe(false);
    a.net.hang = false;
    // Its first attempt as a candidate went out while the network still hung: it times out
    // after renewDeadline (at 20 s); the retry at 22 s finds the Lease still its own.
    await clock.advanceAsync(11_999);
    expect(a.elector.isLeader()).toBe(false);
    await clock.advanceAsync(1);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.started).toHaveLength(2);
    await a.elector.stop();
  });

  it('treats a conflict on update as not leader this round', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const { log, lines } = memoryLogger('debug');
    const a = candidate(leases, clock, 'a', { log });
    await clock.advanceAsync(0);
    // Someone else writes the Lease between a's read and a's update, once.
    let once = true;
    a.net.beforeReplace = () => {
      if (once && leases.lease) {
        once = false;
        leases.lease = { ...leases.lease, metadata: { ...leases.lease.metadata, resourceVersion: String(++leases.rv) } };
      }
    };
    await clock.advanceAsync(2_000);
    expect(lines().some((l) => l['event'] === 'leaseConflict')).toBe(true);
    // One lost round is within the renew deadline: still leading, and the next renewal works.
    expect(a.elector.isLeader()).toBe(true);
    await clock.advanceAsync(2_000);
    expect(a.stopped).toEqual([]);
    await a.elector.stop();
  });

  it('does not take a Lease held by someone else until it has seen it unchanged for its duration', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    // A Lease left by a crashed leader long ago (by its renewTime): b still waits a full
    // lease duration from when it first saw it, as clocks across machines cannot be trusted.
    leases.lease = {
      metadata: { name: 'herald-controller', namespace: 'herald-system', resourceVersion: String(++leases.rv) },
      spec: { holderIdentity: 'crashed', leaseDurationSeconds: 15, renewTime: new Date(0), leaseTransitions: 4 },
    };
    const t0 = clock.now();
    const b = candidate(leases, clock, 'b');
    await clock.advanceAsync(14_000);
    expect(b.started).toEqual([]);
    await clock.advanceAsync(2_000);
    expect(b.started).toEqual([t0 + 16_000]);
    expect(leases.lease?.spec?.leaseTransitions).toBe(5);
    await b.elector.stop();
  });

  it('steps down at once when it finds the Lease held by someone else', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate(leases, clock, 'a');
    await clock.advanceAsync(0);
    expect(a.elector.isLeader()).toBe(true);
    const t0 = clock.now();
    // Another candidate took the Lease (as after a partition longer than the lease).
    leases.lease = { ...leases.lease, metadata: { ...leases.lease?.metadata, resourceVersion: String(++leases.rv) }, spec: { ...leases.lease?.spec, holderIdentity: 'b' } };
    await clock.advanceAsync(2_000);
    expect(a.stopped).toEqual([t0 + 2_000]);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.elector.leader()).toBe('b');
    expect(leases.holder).toBe('b');
    await a.elector.stop();
    expect(leases.holder).toBe('b'); // not ours to release
  });

  it('keeps the Lease on stop when told not to release it', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate(leases, clock, 'a', { releaseOnStop: false });
    await clock.advanceAsync(0);
    await a.elector.stop();
    expect(a.stopped).toHaveLength(1);
    expect(leases.holder).toBe('a');
  });

  it('refuses timings that would let two leaders overlap', () => {
    const base = { kc: new KubeConfig(), api: new FakeLeases().api({}), namespace: 'n', name: 'l', identity: 'a', clock: new FakeClock(), log: silentLogger() };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/leaseDuration/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/renewDeadline/);
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
    const e = new LeaderElector(base);
    void e.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    expect(() => e.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined })).toThrow(/twice/);
    return e.stop();
  });
});
