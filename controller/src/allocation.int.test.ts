import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestCluster, eventually, startController } from './testkit/kube.js';

/**
 * Allocation rules on the real API server, one controller per describe block,
 * each in its own namespace with its own loadBalancerClass.
 */

type Running = Awaited<ReturnType<typeof startController>>;

function suite(prefix: string, pools: Record<string, Record<string, unknown>>) {
  const ctx = {} as { c: TestCluster; run: Running };
  beforeAll(async () => {
    ctx.c = await TestCluster.create(prefix);
    for (const [name, spec] of Object.entries(pools)) await ctx.c.pool(name, spec);
    ctx.run = await startController(ctx.c);
  });
  afterAll(async () => {
    await ctx.run?.stop();
    await ctx.c?.cleanup();
  });
  return ctx;
}

describe('a new LoadBalancer Service', () => {
  const t = suite('alloc-basic', { main: { addresses: ['198.51.100.0/30', '198.51.100.10-198.51.100.11'] } });

  it('gets the lowest free IP with ipMode VIP, the pool annotation, a True condition and an IPAllocated Event', async () => {
    await t.c.service('web');
    await t.c.waitIPs('web', ['198.51.100.0']);
    const s = await t.c.getService('web');
    expect(s.status?.loadBalancer?.ingress).toEqual([{ ip: '198.51.100.0', ipMode: 'VIP' }]);
    expect(s.metadata?.annotations?.['herald.io/ip-allocated-from-pool']).toBe('main');
    expect(s.status?.conditions?.find((c) => c.type === 'herald.io/AddressAssigned')).toMatchObject({ status: 'True', reason: 'IPAllocated', message: 'assigned 198.51.100.0 from pool main' });
    expect(await t.c.waitEvent('web', 'IPAllocated')).toBe('assigned 198.51.100.0 from pool main');
  });

  it('follows the order the addresses are listed in, and says PoolExhausted when none is left', async () => {
    for (const n of ['b', 'c', 'd', 'e', 'f']) {
      await t.c.service(n);
      await eventually(`${n} settled`, async () => ((await t.c.getService(n)).status?.conditions?.length ?? 0) > 0);
    }
    expect([await t.c.ips('b'), await t.c.ips('c'), await t.c.ips('d'), await t.c.ips('e')]).toEqual([['198.51.100.1'], ['198.51.100.2'], ['198.51.100.3'], ['198.51.100.10']]);
    const f = await t.c.getService('f');
    expect(f.status?.loadBalancer?.ingress ?? []).toEqual([{ ip: '198.51.100.11', ipMode: 'VIP' }]);
    await t.c.service('g');
    const cond = await t.c.waitCondition('g', 'PoolExhausted');
    expect(cond.status).toBe('False');
    expect(cond.message).toContain('no free IPv4 address');
    expect(await t.c.waitEvent('g', 'AllocationFailed')).toContain('PoolExhausted');
  });

  it('frees the IP of a deleted Service, and a waiting Service gets it', async () => {
    await t.c.deleteService('c');
    await t.c.waitIPs('g', ['198.51.100.2']);
  });

  it('frees the IP and clears its status when the Service stops being type LoadBalancer', async () => {
    await t.c.patchService('b', (s) => {
      const { loadBalancerClass: _c, allocateLoadBalancerNodePorts: _a, ...spec } = s.spec ?? {};
      return { ...s, spec: { ...spec, type: 'ClusterIP' } };
    });
    // The API server itself empties status.loadBalancer on such a type change; what the
    // controller must clear is its own condition and annotation.
    const b = await eventually('condition and annotation cleared', async () => {
      const s = await t.c.getService('b');
      const ours = s.status?.conditions?.some((c) => c.type === 'herald.io/AddressAssigned') || s.metadata?.annotations?.['herald.io/ip-allocated-from-pool'] !== undefined;
      return ours ? undefined : s;
    });
    expect(b.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(await t.c.waitEvent('b', 'IPReleased')).toContain('no longer of type LoadBalancer');
  });

  it('ignores Services that are not type LoadBalancer', async () => {
    await t.c.service('cip', { spec: { type: 'ClusterIP' }, noClass: true });
    await t.c.service('probe-after');
    await eventually('probe-after allocated', async () => (await t.c.ips('probe-after')).length === 1);
    const cip = await t.c.getService('cip');
    expect(cip.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(cip.status?.conditions ?? []).toEqual([]);
  });
});

describe('avoidBuggyIPs', () => {
  const t = suite('alloc-buggy', { p: { addresses: ['203.0.113.255/32', '192.0.2.0-192.0.2.1'], avoidBuggyIPs: true } });

  it('never hands out an IPv4 address ending in .0 or .255', async () => {
    await t.c.service('a');
    await t.c.waitIPs('a', ['192.0.2.1']);
    await t.c.service('b');
    expect((await t.c.waitCondition('b', 'PoolExhausted')).status).toBe('False');
  });
});

describe('autoAssign: false', () => {
  const t = suite('alloc-manual', { manual: { addresses: ['192.0.2.64/28'], autoAssign: false } });

  it('is not used for a Service that asks for nothing', async () => {
    await t.c.service('plain');
    const c = await t.c.waitCondition('plain', 'NoMatchingPool');
    expect(c.message).toContain('autoAssign is false');
  });

  it('is used when the Service names it or asks for one of its IPs', async () => {
    await t.c.service('named', { annotations: { 'herald.io/address-pool': 'manual' } });
    await t.c.waitIPs('named', ['192.0.2.64']);
    await t.c.service('byip', { spec: { loadBalancerIP: '192.0.2.70' } });
    await t.c.waitIPs('byip', ['192.0.2.70']);
  });
});

describe('choice of pool', () => {
  const t = suite('alloc-choice', {
    'z-plain': { addresses: ['192.0.2.128/30'] },
    'b-prio5': { addresses: ['192.0.2.136/30'], serviceAllocation: { priority: 5, namespaceSelectors: [{ matchLabels: { team: 'red' } }] } },
    'a-prio9': { addresses: ['192.0.2.140/30'], serviceAllocation: { priority: 9, serviceSelectors: [{ matchLabels: { tier: 'web' } }] } },
  });

  it('takes the admitting pool with the lowest priority first, then plain pools', async () => {
    const red = await t.c.namespace(`${t.c.ns}-red`, { team: 'red' });
    await t.c.service('s1', { namespace: red, labels: { tier: 'web' } });
    await t.c.waitIPs('s1', ['192.0.2.136'], red);
    await t.c.service('s2', { labels: { tier: 'web' } });
    await t.c.waitIPs('s2', ['192.0.2.140']);
    await t.c.service('s3');
    await t.c.waitIPs('s3', ['192.0.2.128']);
    expect((await t.c.getService('s2')).metadata?.annotations?.['herald.io/ip-allocated-from-pool']).toBe('a-prio9');
  });

  it('refuses a requested pool that does not admit the Service, saying why', async () => {
    await t.c.service('s4', { annotations: { 'herald.io/address-pool': 'b-prio5' } });
    const c = await t.c.waitCondition('s4', 'NoMatchingPool');
    expect(c.message).toContain('no serviceAllocation.namespaceSelectors matches');
  });
});

describe('requested IPs', () => {
  const t = suite('alloc-req', { p: { addresses: ['192.0.2.160/28', '2001:db8:160::/120'] } });

  it('gives the IP named by spec.loadBalancerIP or the loadBalancerIPs annotation', async () => {
    await t.c.service('field', { spec: { loadBalancerIP: '192.0.2.170' } });
    await t.c.service('ann', { annotations: { 'herald.io/loadBalancerIPs': '192.0.2.171' } });
    await t.c.waitIPs('field', ['192.0.2.170']);
    await t.c.waitIPs('ann', ['192.0.2.171']);
  });

  it('refuses an IP outside every pool with NoMatchingPool, and one of a missing family with InvalidRequest', async () => {
    await t.c.service('outside', { annotations: { 'herald.io/loadBalancerIPs': '198.18.0.1' } });
    expect((await t.c.waitCondition('outside', 'NoMatchingPool')).message).toBe('no pool contains the requested IP 198.18.0.1');
    await t.c.service('v6only', { annotations: { 'herald.io/loadBalancerIPs': '2001:db8:160::5' } });
    expect((await t.c.waitCondition('v6only', 'InvalidRequest')).message).toContain("requested IPv6 address but the Service's ipFamilies are IPv4");
  });

  it('gives one of two Services racing for one IP the IP, and tells the other who holds it', async () => {
    await Promise.all([t.c.service('race-a', { spec: { loadBalancerIP: '192.0.2.175' } }), t.c.service('race-b', { spec: { loadBalancerIP: '192.0.2.175' } })]);
    const [a, b] = await eventually('both decided', async () => {
      const x = await t.c.getService('race-a');
      const y = await t.c.getService('race-b');
      const cx = x.status?.conditions?.find((c) => c.type === 'herald.io/AddressAssigned');
      const cy = y.status?.conditions?.find((c) => c.type === 'herald.io/AddressAssigned');
      return cx && cy ? [cx, cy] : undefined;
    });
    const reasons = [a?.reason, b?.reason].sort();
    expect(reasons).toEqual(['IPAllocated', 'RequestedIPInUse']);
    const loser = a?.reason === 'RequestedIPInUse' ? a : b;
    const winner = a?.reason === 'RequestedIPInUse' ? 'race-b' : 'race-a';
    expect(loser?.message).toContain(`${t.c.ns}/${winner}`);
  });
});

describe('sharing an IP', () => {
  const t = suite('alloc-share', { p: { addresses: ['192.0.2.192/29'] } });
  const share = { 'herald.io/allow-shared-ip': 'dns' };

  it('places Services with one sharing key and disjoint ports on one IP', async () => {
    await t.c.service('other');
    await t.c.waitIPs('other', ['192.0.2.192']);
    await t.c.service('dns-tcp', { annotations: share, spec: { ports: [{ port: 53, protocol: 'TCP' }] } });
    await t.c.waitIPs('dns-tcp', ['192.0.2.193']);
    await t.c.service('dns-udp', { annotations: share, spec: { ports: [{ port: 53, protocol: 'UDP' }] } });
    await t.c.waitIPs('dns-udp', ['192.0.2.193']);
  });

  it('honours the MetalLB spelling of the sharing key', async () => {
    await t.c.service('dns-dot', { annotations: { 'metallb.universe.tf/allow-shared-ip': 'dns' }, spec: { ports: [{ port: 853, protocol: 'TCP' }] } });
    await t.c.waitIPs('dns-dot', ['192.0.2.193']);
  });

  it('refuses a requested shared IP whose ports collide (SharingConflict), naming the holder', async () => {
    await t.c.service('clash', { annotations: { ...share, 'herald.io/loadBalancerIPs': '192.0.2.193' }, spec: { ports: [{ port: 53, protocol: 'UDP' }] } });
    const c = await t.c.waitCondition('clash', 'SharingConflict');
    expect(c.message).toContain('both use UDP/53');
  });

  it('refuses a requested IP held by a Service without the key (RequestedIPInUse)', async () => {
    await t.c.service('taker', { annotations: { 'herald.io/loadBalancerIPs': '192.0.2.192' } });
    expect((await t.c.waitCondition('taker', 'RequestedIPInUse')).message).toContain(`${t.c.ns}/other`);
  });
});

describe('IP families', () => {
  const t = suite('alloc-fam', { v4: { addresses: ['192.0.2.224/30'] }, v6: { addresses: ['2001:db8:224::/126'] }, zdual: { addresses: ['192.0.2.232/30', '2001:db8:232::/126'] } });

  it('gives RequireDualStack one IP of each family from one pool', async () => {
    await t.c.service('dual', { spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } });
    await t.c.waitIPs('dual', ['192.0.2.232', '2001:db8:232::']);
  });

  it('gives SingleStack IPv6 one IPv6 address', async () => {
    await t.c.service('six', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } });
    await t.c.waitIPs('six', ['2001:db8:224::']);
  });

  it('gives PreferDualStack one family when no pool with both has room', async () => {
    for (const n of ['d2', 'd3', 'd4']) await t.c.service(n, { spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } });
    await t.c.waitIPs('d4', ['192.0.2.235', '2001:db8:232::3']);
    await t.c.service('pref', { spec: { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] } });
    await t.c.waitIPs('pref', ['192.0.2.224']);
    await t.c.service('req', { spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } });
    expect((await t.c.waitCondition('req', 'PoolExhausted')).message).toContain('IPv4 and IPv6');
  });
});

describe('bad input', () => {
  const t = suite('alloc-bad', { p: { addresses: ['192.0.2.248/29'] } });

  it('reports an annotation that does not parse as InvalidRequest and keeps the IP already assigned', async () => {
    await t.c.service('keep');
    await t.c.waitIPs('keep', ['192.0.2.248']);
    await t.c.patchService('keep', (s) => ({ ...s, metadata: { ...s.metadata, annotations: { ...s.metadata?.annotations, 'herald.io/loadBalancerIPs': 'not-an-ip' } } }));
    const c = await t.c.waitCondition('keep', 'InvalidRequest');
    expect(c.message).toContain('"not-an-ip" is not an IP address');
    expect(await t.c.ips('keep')).toEqual(['192.0.2.248']);
    expect(await t.c.waitEvent('keep', 'AllocationFailed')).toContain('InvalidRequest');
    // Other Services are untouched and allocation goes on.
    await t.c.service('next');
    await t.c.waitIPs('next', ['192.0.2.249']);
  });
});
