import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { createNamespace, deleteNamespace, testKubeConfig, uniqueNamespace, waitFor } from './__fixtures__/cluster.js';
import { LeaderElector } from './leader.js';

const kc = testKubeConfig();
const leases = kc.makeApiClient(CoordinationV1Api);
const ns = uniqueNamespace('herald-leader');

// Short timings so that the test runs in seconds: the Lease says 2 s (whole seconds, rounded up).
const TIMING = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 200 } as const;

interface Candidate {
  elector: LeaderElector;
  started: number[];
  stopped: number[];
  done: Promise<void>;
}

function candidate(lease: string, identity: string, releaseOnStop = true): Candidate {
  const elector = new LeaderElector({ kc, namespace: ns, name: lease, identity, clock: systemClock, log: silentLogger(), releaseOnStop, ...TIMING });
  const c = { elector, started: [] as number[], stopped: [] as number[] };
  const done = elector.run({
    onStartedLeading: () => void c.started.push(Date.now()),
    onStoppedLeading: () => void c.stopped.push(Date.now()),
  });
  return { ...c, done };
}

const holder = async (lease: string): Promise<string | undefined> =>
  (await leases.readNamespacedLease({ name: lease, namespace: ns })).spec?.holderIdentity;

describe('leader election against kube-apiserver', () => {
  beforeAll(() => createNamespace(kc, ns), 30_000);
  afterAll(() => deleteNamespace(kc, ns), 30_000);

  it('lets exactly one of two candidates lead, and hands over within a retry period on stop()', async () => {
    const a = candidate('one-leader', 'a');
    const b = candidate('one-leader', 'b');
    try {
      await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader());
      // Sample for a while: never two leaders, never none, and the Lease agrees.
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline) {
        expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const [leader, follower, leaderId] = a.elector.isLeader() ? [a, b, 'a'] : [b, a, 'b'];
      expect(await holder('one-leader')).toBe(leaderId);
      expect(leader.started).toHaveLength(1);
      expect(follower.started).toHaveLength(0);

      const t0 = Date.now();
      await leader.elector.stop();
      expect(leader.stopped).toHaveLength(1);
      await waitFor('the follower to lead', () => follower.elector.isLeader(), 5_000);
      // The released Lease is taken at the follower's next attempt, not after expiry.
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(await holder('one-leader')).toBe(leaderId === 'a' ? 'b' : 'a');
      expect((await leases.readNamespacedLease({ name: 'one-leader', namespace: ns })).spec?.leaseTransitions).toBe(1);
    } finally {
      await Promise.all([a.elector.stop(), b.elector.stop()]);
    }
  }, 30_000);

  it('takes over after the lease duration when the leader vanishes without releasing', async () => {
    const a = candidate('expiry', 'a', false);
    try {
      await waitFor('a to lead', () => a.elector.isLeader());
    } catch (err) {
      await a.elector.stop();
      throw err;
    }
    const b = candidate('expiry', 'b');
    try {
      await new Promise((resolve) => setTimeout(resolve, 500)); // b sees a renewing
      expect(b.elector.isLeader()).toBe(false);
      expect(b.elector.leader()).toBe('a');
      await a.elector.stop(); // gone, Lease still naming it
      const t0 = Date.now();
      expect(await holder('expiry')).toBe('a');
      await waitFor('b to take over', () => b.elector.isLeader(), 10_000);
      const waited = Date.now() - t0;
      // b waits for the Lease (2 s) to pass since it last saw it change, which was at
      // most one retry period (0.2 s) before a stopped.
      expect(waited).toBeGreaterThanOrEqual(1_500);
      expect(waited).toBeLessThan(4_000);
      expect(await holder('expiry')).toBe('b');
    } finally {
      await Promise.all([a.elector.stop(), b.elector.stop()]);
    }
  }, 30_000);
});
