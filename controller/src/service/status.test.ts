import { describe, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { parseIP, type IP } from '@herald/shared/ip';
import { applyStatus } from './status.js';

const ip = (s: string): IP => parseIP(s) as IP;
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-02T00:00:00Z');
const base: V1Service = { metadata: { name: 's', namespace: 'n', generation: 3 }, spec: { type: 'LoadBalancer' }, status: { conditions: [{ type: 'other.io/X', status: 'True', reason: 'R', message: '', lastTransitionTime: t0 }] } };

describe('Service status', () => {
  it('writes ingress with ipMode VIP, the pool annotation and a True condition', () => {
    const s = applyStatus(base, { ips: [ip('10.0.0.1'), ip('2001:db8::1')], pool: 'p', condition: { status: 'True', reason: 'IPAllocated', message: 'm' } }, t0);
    expect(s?.status?.loadBalancer?.ingress).toEqual([{ ip: '10.0.0.1', ipMode: 'VIP' }, { ip: '2001:db8::1', ipMode: 'VIP' }]);
    expect(s?.metadata?.annotations).toEqual({ 'herald.io/ip-allocated-from-pool': 'p' });
    expect(s?.status?.conditions).toEqual([base.status?.conditions?.[0], expect.objectContaining({ type: 'herald.io/AddressAssigned', status: 'True', observedGeneration: 3, lastTransitionTime: t0 })]);
  });

  it('makes no write when nothing changes', () => {
    const d = { ips: [ip('10.0.0.1')], pool: 'p', condition: { status: 'True' as const, reason: 'IPAllocated', message: 'm' } };
    const once = applyStatus(base, d, t0);
    expect(once && applyStatus(once, d, t1)).toBeUndefined();
  });

  it('keeps lastTransitionTime while the condition status holds', () => {
    const once = applyStatus(base, { ips: [], condition: { status: 'False', reason: 'PoolExhausted', message: 'a' } }, t0) as V1Service;
    const twice = applyStatus(once, { ips: [], condition: { status: 'False', reason: 'NoMatchingPool', message: 'b' } }, t1);
    expect(twice?.status?.conditions?.[1]).toMatchObject({ reason: 'NoMatchingPool', lastTransitionTime: t0 });
  });

  it('leaves the IPs alone when told to (bad input never moves an IP)', () => {
    const held = applyStatus(base, { ips: [ip('10.0.0.1')], pool: 'p', condition: { status: 'True', reason: 'IPAllocated', message: '' } }, t0) as V1Service;
    const bad = applyStatus(held, { condition: { status: 'False', reason: 'InvalidRequest', message: 'x' } }, t1);
    expect(bad?.status?.loadBalancer?.ingress).toEqual([{ ip: '10.0.0.1', ipMode: 'VIP' }]);
    expect(bad?.metadata?.annotations?.['herald.io/ip-allocated-from-pool']).toBe('p');
  });

  it('clears everything it wrote when the Service stops being ours', () => {
    const held = applyStatus(base, { ips: [ip('10.0.0.1')], pool: 'p', condition: { status: 'True', reason: 'IPAllocated', message: '' } }, t0) as V1Service;
    const cleared = applyStatus(held, { ips: [] }, t1);
    expect(cleared?.status?.loadBalancer?.ingress).toEqual([]);
    expect(cleared?.status?.conditions).toEqual(base.status?.conditions);
    expect(cleared?.metadata?.annotations).toEqual({});
  });
});
