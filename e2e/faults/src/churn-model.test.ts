import { describe, expect, it } from '@jest/globals';
import { assignmentsPerInstance, churnService, IngressLog, illegalSharing, mayShare, shareView, wrongIPs } from './churn-model.js';
import type { V1Service } from '@kubernetes/client-node';

const withIPs = (svc: V1Service, ips: string[]): V1Service => ({ ...svc, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });

describe('the churn mix', () => {
  it('holds single-stack, dual-stack, compatible and clashing sharing pairs in every 20', () => {
    const svcs = Array.from({ length: 20 }, (_, i) => churnService(i, 'x/y'));
    expect(svcs.filter((s) => s.spec?.ipFamilies?.length === 2)).toHaveLength(2);
    expect(svcs.filter((s) => s.spec?.ipFamilies?.join() === 'IPv6')).toHaveLength(4);
    const v = svcs.map(shareView);
    expect(mayShare(v[3]!, v[4]!)).toBe(true);
    expect(mayShare(v[13]!, v[14]!)).toBe(true);
    expect(mayShare(v[7]!, v[8]!)).toBe(false);
    expect(mayShare(v[0]!, v[5]!)).toBe(false);
  });
});

describe('mayShare', () => {
  const base = { key: 'k', ports: ['TCP/80'], local: false, selector: '{"app":"a"}' };
  it.each([
    ['same key, different ports', { ...base, ports: ['TCP/443'] }, true],
    ['same key, same port', base, false],
    ['same port number, other protocol', { ...base, ports: ['UDP/80'] }, true],
    ['different keys', { ...base, key: 'other', ports: ['TCP/443'] }, false],
    ['Local with another selector', { ...base, ports: ['TCP/443'], local: true, selector: '{"app":"b"}' }, false],
    ['Local with the same selector', { ...base, ports: ['TCP/443'], local: true }, true],
  ])('%s', (_what, b, want) => {
    expect(mayShare(base, b)).toBe(want);
  });
  it('never lets Services without a key share', () => {
    expect(mayShare({ ...base, key: undefined }, { ...base, key: undefined, ports: ['TCP/443'] })).toBe(false);
  });
});

describe('IngressLog', () => {
  it('accepts one assignment per Service and records every later change, clears included', () => {
    const log = new IngressLog();
    log.record('a', [], 1, 'watch');
    log.record('a', ['10.0.0.1'], 2, 'watch');
    log.record('a', ['10.0.0.1'], 3, 'relist');
    expect(log.changes).toEqual([]);
    expect(log.first('a')).toEqual(['10.0.0.1']);
    log.record('a', [], 4, 'watch');
    log.record('a', ['10.0.0.2'], 5, 'relist');
    expect(log.changes.map((c) => [c.from, c.to, c.via])).toEqual([
      [['10.0.0.1'], [], 'watch'],
      [[], ['10.0.0.2'], 'relist'],
    ]);
    expect(log.updates).toBe(3);
  });
});

describe('final state checks', () => {
  it('finds IPs held by Services that may not share them', () => {
    const s = (i: number): V1Service => churnService(i, 'x/y');
    const ok = illegalSharing([withIPs(s(3), ['10.40.0.1']), withIPs(s(4), ['10.40.0.1'])]);
    expect(ok).toEqual({});
    const bad = illegalSharing([withIPs(s(7), ['10.40.0.2']), withIPs(s(8), ['10.40.0.2']), withIPs(s(0), ['10.40.0.3'])]);
    expect(bad).toEqual({ '10.40.0.2': ['svc-0007', 'svc-0008'] });
  });

  it('wants one IP per family, from the pools', () => {
    const dual = churnService(2, 'x/y');
    expect(wrongIPs(withIPs(dual, ['10.40.0.1', '2001:db8:40::1']))).toBeUndefined();
    expect(wrongIPs(withIPs(dual, ['10.40.0.1']))).toContain('one IP per family');
    expect(wrongIPs(withIPs(dual, ['10.40.0.1', '10.40.0.2']))).toContain('families');
    expect(wrongIPs(withIPs(churnService(0, 'x/y'), ['10.41.0.1']))).toContain('outside the pools');
  });
});

describe('assignmentsPerInstance', () => {
  it('credits each first assignment to the controller process that was running', () => {
    expect(assignmentsPerInstance([100, 200, 300], [50, 100, 150, 250, 260, 400])).toEqual([2, 2, 1]);
  });
});
