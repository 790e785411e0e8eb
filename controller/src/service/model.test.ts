import { describe, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { handles, serviceRequest } from './model.js';

function svc(spec: Partial<NonNullable<V1Service['spec']>> = {}, annotations: Record<string, string> = {}): V1Service {
  return {
    metadata: { name: 'web', namespace: 'shop', annotations, labels: { app: 'web' } },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
  };
}

describe('which Services the controller handles', () => {
  it('handles LoadBalancer Services without a class when no --lb-class is given', () => {
    expect(handles(svc(), undefined)).toEqual({ ok: true });
    expect(handles(svc({ loadBalancerClass: 'other.io/lb' }), undefined)).toEqual({ ok: false, reason: 'OtherLoadBalancerClass' });
    expect(handles(svc({ type: 'ClusterIP' }), undefined)).toEqual({ ok: false, reason: 'NotLoadBalancer' });
  });
  it('with --lb-class handles only an exact match', () => {
    expect(handles(svc({ loadBalancerClass: 'herald.io/lb' }), 'herald.io/lb')).toEqual({ ok: true });
    expect(handles(svc(), 'herald.io/lb')).toEqual({ ok: false, reason: 'OtherLoadBalancerClass' });
  });
});

describe('reading a Service request', () => {
  it('reads families, policy, ports and selector', () => {
    const r = serviceRequest(svc({ ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack', selector: { b: '2', a: '1' }, externalTrafficPolicy: 'Local' }), {});
    expect(r).toMatchObject({ ok: true, request: { key: 'shop/web', families: [6, 4], policy: 'PreferDualStack', sharing: { ports: ['TCP/80'], local: true, selector: '{"a":"1","b":"2"}' } } });
  });

  it('honours MetalLB annotations, and ours win when both are set', () => {
    const m = serviceRequest(svc({}, { 'metallb.universe.tf/address-pool': 'old', 'metallb.io/allow-shared-ip': 'k1' }), {});
    expect(m).toMatchObject({ ok: true, request: { pool: 'old', sharing: { key: 'k1' } } });
    const both = serviceRequest(svc({}, { 'metallb.io/address-pool': 'theirs', 'herald.io/address-pool': 'ours' }), {});
    expect(both).toMatchObject({ ok: true, request: { pool: 'ours' } });
  });

  it('reads requested IPs from the annotation, one per family', () => {
    const r = serviceRequest(svc({ ipFamilies: ['IPv4', 'IPv6'] }, { 'herald.io/loadBalancerIPs': '10.0.0.1, 2001:db8::1' }), {});
    expect(r.ok && r.request.requestedIPs.map((ip) => ip.family)).toEqual([4, 6]);
  });

  it.each([
    [{ 'herald.io/loadBalancerIPs': '10.0.0.1,10.0.0.2' }, {}, 'at most one IP per family'],
    [{ 'herald.io/loadBalancerIPs': '10.0.0.300' }, {}, 'is not an IP address'],
    [{ 'metallb.io/loadBalancerIPs': '' }, {}, 'is empty'],
    [{}, { loadBalancerIP: 'nope' }, 'spec.loadBalancerIP: "nope" is not an IP address'],
    [{ 'herald.io/loadBalancerIPs': '10.0.0.1' }, { loadBalancerIP: '10.0.0.2' }, 'disagrees with annotation'],
    [{ 'herald.io/address-pool': 'Bad_Name' }, {}, 'not a valid pool name'],
    [{ 'herald.io/allow-shared-ip': ' ' }, {}, 'is empty'],
  ])('refuses %j %j as InvalidRequest, saying %s', (anns, spec, why) => {
    const r = serviceRequest(svc(spec, anns), {});
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain(why);
  });
});
