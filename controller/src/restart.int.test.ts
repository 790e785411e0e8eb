import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Watch, type V1Service } from '@kubernetes/client-node';
import { TestCluster, eventually, startController } from './testkit/kube.js';

/** Restarts, leadership and classes: state lives in Service status, never only in memory. */

const N = 300;

describe('a controller restart', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.create('restart');
  });
  afterAll(async () => {
    await c.cleanup();
  });

  it(`keeps every IP of ${N} Services across a restart, rebuilding from status before assigning new ones`, async () => {
    await c.pool('p', { addresses: ['10.20.0.0/22'] });
    await c.pool('q', { addresses: ['2001:db8:20::/64'] });
    const first = await startController(c);
    const names = Array.from({ length: N }, (_, i) => `s${i}`);
    // Create in waves, releasing some, so the IPs are not simply the first N in order.
    for (let i = 0; i < N; i += 25) await Promise.all(names.slice(i, i + 25).map((n, j) => c.service(n, j % 3 === 0 ? { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } } : {})));
    await eventually('all allocated', async () => (await c.core.listNamespacedService({ namespace: c.ns })).items.every((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) === 1), 60_000);
    for (const n of names.filter((_, i) => i % 7 === 0)) await c.deleteService(n);
    await first.stop();

    const before = new Map((await c.core.listNamespacedService({ namespace: c.ns })).items.map((s) => [s.metadata?.name ?? '', JSON.stringify(s.status?.loadBalancer?.ingress)]));
    // Every change to any Service's IPs from here on is recorded.
    const changes: string[] = [];
    const watch = new Watch(c.kc);
    const list = await c.core.listNamespacedService({ namespace: c.ns });
    const abort = await watch.watch(`/api/v1/namespaces/${c.ns}/services`, { resourceVersion: list.metadata?.resourceVersion ?? '' }, (phase: string, obj: V1Service) => {
      const name = obj.metadata?.name ?? '';
      const now = JSON.stringify(obj.status?.loadBalancer?.ingress);
      if (phase === 'MODIFIED' && before.has(name) && before.get(name) !== now) changes.push(`${name}: ${before.get(name)} -> ${now}`);
    }, () => undefined);

    try {
      // A new Service created while the controller is down must not take anyone's IP.
      await c.service('newcomer');
      const second = await startController(c);
      try {
        await c.waitIPs('newcomer', ['10.20.0.200'.replace('200', String(firstFreeV4(before)))]);
        await second.controller.drained();
        expect(changes).toEqual([]);
        const after = new Map((await c.core.listNamespacedService({ namespace: c.ns })).items.map((s) => [s.metadata?.name ?? '', JSON.stringify(s.status?.loadBalancer?.ingress)]));
        for (const [name, ips] of before) expect(after.get(name)).toBe(ips);
        // No IP is held twice.
        const all = [...after.values()].flatMap((v) => (JSON.parse(v ?? '[]') as { ip: string }[]).map((x) => x.ip));
        expect(new Set(all).size).toBe(all.length);
      } finally {
        await second.stop();
      }
    } finally {
      abort.abort();
    }
  });
});

/** The lowest last-octet in 10.20.0.x that `before` leaves free: where a newcomer must land. */
function firstFreeV4(before: Map<string, string | undefined>): number {
  const used = new Set<string>();
  for (const v of before.values()) for (const x of JSON.parse(v ?? '[]') as { ip: string }[]) used.add(x.ip);
  for (let i = 0; i < 256; i++) if (!used.has(`10.20.0.${i}`)) return i;
  throw new Error('no free address in 10.20.0.0/24');
}

describe('leader election', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.create('leader');
    await c.pool('p', { addresses: ['10.21.0.0/24'] });
  });
  afterAll(async () => {
    await c.cleanup();
  });

  it('lets only the leader write, and a successor takes over at once when the leader stops', async () => {
    const a = await startController(c, { leaderElect: true, identity: 'replica-a' });
    await eventually('a leads', async () => a.controller.isLeader);
    const b = await startController(c, { leaderElect: true, identity: 'replica-b' });
    try {
      await c.service('one');
      await c.waitIPs('one', ['10.21.0.0']);
      expect(b.controller.isLeader).toBe(false);
      expect(await b.metrics.statusWrites.get().then((m) => m.values.reduce((s, v) => s + v.value, 0))).toBe(0);
      const lease = await eventually('lease held by a', async () => {
        const l = await c.kc.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api).readNamespacedLease({ name: 'herald-controller', namespace: c.ns });
        return l.spec?.holderIdentity === 'replica-a' ? l : undefined;
      });
      expect(lease.spec?.holderIdentity).toBe('replica-a');
      const t0 = Date.now();
      await a.stop();
      await eventually('b leads', async () => b.controller.isLeader, 20_000);
      // A released Lease is taken within one retry period (2 s), not a lease duration (15 s).
      expect(Date.now() - t0).toBeLessThan(5_000);
      await c.service('two');
      await c.waitIPs('two', ['10.21.0.1']);
      expect(await c.ips('one')).toEqual(['10.21.0.0']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('loadBalancerClass', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.create('class');
    await c.pool('p', { addresses: ['10.22.0.0/24'] });
  });
  afterAll(async () => {
    await c.cleanup();
  });

  it('with --lb-class handles only Services of exactly that class', async () => {
    const run = await startController(c, { lbClass: 'herald.io/special' });
    try {
      await c.service('mine', { spec: { loadBalancerClass: 'herald.io/special' } });
      await c.service('theirs', { spec: { loadBalancerClass: 'other.io/lb' } });
      await c.waitIPs('mine', ['10.22.0.0']);
      await run.controller.drained();
      const theirs = await c.getService('theirs');
      expect(theirs.status?.loadBalancer?.ingress ?? []).toEqual([]);
      expect(theirs.status?.conditions ?? []).toEqual([]);
    } finally {
      await run.stop();
      // Controllers of different classes are not meant to share one pool namespace.
      await c.deleteService('mine');
    }
  });

  it('without --lb-class ignores every Service that names a class', async () => {
    // This controller sees the whole cluster's class-less Services; the other test files
    // always set a class, so it touches nothing of theirs.
    const run = await startController(c, { lbClass: null });
    try {
      await c.service('classless', { noClass: true });
      await c.waitIPs('classless', ['10.22.0.0']);
      await run.controller.drained();
      expect(await c.ips('theirs')).toEqual([]);
    } finally {
      await run.stop();
    }
  });
});
