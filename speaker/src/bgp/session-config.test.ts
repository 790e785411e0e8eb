import { describe, expect, it } from '@jest/globals';
import { BFDProfileSchema, BGPPeerSchema, type BGPPeerInput } from '@herald/shared/api';
import type { SessionPlan } from './plan.js';
import { sessionFamilies } from './plan.js';
import { fingerprint, liteRoutes, nodeAddresses, routerIdFor, sessionConfig } from './session-config.js';

const plan = (spec: Partial<BGPPeerInput['spec']> = {}, bfd?: Record<string, unknown>): SessionPlan => {
  const p = BGPPeerSchema.parse({ metadata: { name: 'tor' }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', ...spec } });
  return { name: 'tor', spec: p.spec, bfd: bfd === undefined ? undefined : BFDProfileSchema.parse({ metadata: { name: 'b' }, spec: bfd }).spec, families: sessionFamilies(p.spec) };
};
const ctx = { node: 'node-1', addresses: { 4: '192.0.2.21', 6: '2001:db8::21' } as const };

describe('sessionConfig', () => {
  it('takes MetalLB defaults: hold 90 s, port 179, eBGP TTL 1, router ID from the node IPv4 address', () => {
    const c = sessionConfig(plan(), ctx);
    expect(c).toMatchObject({ localAsn: 64500, peerAsn: 64501, port: 179, holdTimeSec: 90, ttl: 1, ibgp: false, routerId: '192.0.2.21', families: ['ipv4'], gracefulRestart: false, bfd: undefined });
    expect(c.nextHops).toEqual({ 4: '192.0.2.21', 6: '2001:db8::21' });
  });

  it('derives hold time from keepalive, honours timers, multihop, iBGP, graceful restart, source address', () => {
    expect(sessionConfig(plan({ keepaliveTime: '10s' }), ctx).holdTimeSec).toBe(30);
    expect(sessionConfig(plan({ holdTime: '9s', keepaliveTime: '3s', connectTime: '5s' }), ctx)).toMatchObject({ holdTimeSec: 9, keepaliveSec: 3, connectRetryMaxMs: 5000 });
    expect(sessionConfig(plan({ ebgpMultiHop: true }), ctx).ttl).toBe(255);
    expect(sessionConfig(plan({ peerASN: 64500 }), ctx)).toMatchObject({ ibgp: true, ttl: 255 });
    expect(sessionConfig(plan({ enableGracefulRestart: true }), ctx).gracefulRestart).toBe(true);
    const src = sessionConfig(plan({ sourceAddress: '192.0.2.99', routerID: '10.0.0.1' }), ctx);
    expect(src).toMatchObject({ localAddress: '192.0.2.99', routerId: '10.0.0.1' });
    expect(src.nextHops[4]).toBe('192.0.2.99');
    expect(sessionConfig(plan({ peerAddress: '2001:db8::1', dualStackAddressFamily: true }), ctx).families).toEqual(['ipv4', 'ipv6']);
  });

  it('maps a BFD profile (ms to µs), single or multi hop, from the session source', () => {
    const c = sessionConfig(plan({}, { receiveInterval: 100, transmitInterval: 150, detectMultiplier: 4 }), ctx);
    expect(c.bfd).toEqual({ mode: 'singleHop', localAddress: '192.0.2.21', desiredMinTxUs: 150_000, requiredMinRxUs: 100_000, detectMult: 4, passive: false });
    expect(sessionConfig(plan({ ebgpMultiHop: true }, {}), ctx).bfd?.mode).toBe('multiHop');
  });
});

describe('routerIdFor', () => {
  it('is stable and non-zero for an IPv6-only node', () => {
    const a = routerIdFor(undefined, { node: 'v6-node', addresses: { 6: '2001:db8::5' } });
    expect(a).toBe(routerIdFor(undefined, { node: 'v6-node', addresses: {} }));
    expect(a).not.toBe(routerIdFor(undefined, { node: 'other', addresses: {} }));
    expect(a).toMatch(/^([1-9]\d{0,2})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
  });
});

describe('nodeAddresses', () => {
  it('prefers InternalIP and falls back to ExternalIP per family', () => {
    expect(
      nodeAddresses({
        status: {
          addresses: [
            { type: 'ExternalIP', address: '198.51.100.1' },
            { type: 'InternalIP', address: '192.0.2.21' },
            { type: 'ExternalIP', address: '2001:db8::99' },
            { type: 'Hostname', address: 'node-1' },
          ],
        },
      }),
    ).toEqual({ 4: '192.0.2.21', 6: '2001:db8::99' });
    expect(nodeAddresses(undefined)).toEqual({});
  });
});

describe('liteRoutes and fingerprint', () => {
  it('adds next hops by family and drops a family without one', () => {
    const intents = [
      { prefix: '192.0.2.10/32', family: 4 as const, communities: ['1:2'], largeCommunities: [], localPref: 200 },
      { prefix: '2001:db8::10/128', family: 6 as const, communities: [], largeCommunities: ['1:2:3'], localPref: undefined },
    ];
    expect(liteRoutes(intents, { 4: '192.0.2.21' })).toEqual([{ prefix: '192.0.2.10/32', nextHop: '192.0.2.21', communities: ['1:2'], localPref: 200 }]);
    expect(liteRoutes(intents, { 4: '192.0.2.21', 6: '2001:db8::21' })[1]).toEqual({ prefix: '2001:db8::10/128', nextHop: '2001:db8::21', largeCommunities: ['1:2:3'] });
  });

  it('changes with the password and session fields, never with next hops, and never contains the password', () => {
    const c = sessionConfig(plan(), ctx);
    const fp = fingerprint(c, 's3cret');
    expect(fp).not.toContain('s3cret');
    expect(fingerprint(c, 'other')).not.toBe(fp);
    expect(fingerprint({ ...c, nextHops: {} }, 's3cret')).toBe(fp);
    expect(fingerprint({ ...c, holdTimeSec: 3 }, 's3cret')).not.toBe(fp);
  });
});
