import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildConfig, ConfigTracker, type ConfigInput } from './model.js';

const T0 = '2026-01-01T00:00:00Z';
const pool = (name: string, addresses: string[], creationTimestamp = T0, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'herald.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: 'herald-system', creationTimestamp, generation: 1 },
  spec: { addresses, ...extra },
});
const obj = (kind: string, name: string, spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'herald.io/v1beta1',
  kind,
  metadata: { name, namespace: 'herald-system', generation: 1 },
  spec,
});

describe('configuration model', () => {
  it('keeps a pool in force, frozen, when an edit the API server accepted runs a range backwards', () => {
    const t = new ConfigTracker();
    const good = t.update({ IPAddressPool: [pool('lab', ['192.0.2.100-192.0.2.119'])] });
    expect(good.pools.map((p) => [p.pool.metadata.name, p.frozen])).toEqual([['lab', false]]);
    const bad = t.update({ IPAddressPool: [pool('lab', ['192.0.2.100-192.0.2.119', '192.0.2.130-192.0.2.120'])] });
    expect(bad.pools).toHaveLength(1);
    expect(bad.pools[0]?.frozen).toBe(true);
    expect(bad.pools[0]?.pool.spec.addresses).toEqual(['192.0.2.100-192.0.2.119']);
    expect(bad.verdicts[0]).toMatchObject({ kind: 'IPAddressPool', name: 'lab', valid: false, reason: 'InvalidSpec', kept: 'lastGood' });
    expect(bad.verdicts[0]?.message).toMatch(/backwards.*last valid version stays in force/);
    // Fixed: the new version is in force, no longer frozen.
    const fixed = t.update({ IPAddressPool: [pool('lab', ['192.0.2.100-192.0.2.119', '192.0.2.120-192.0.2.130'])] });
    expect(fixed.pools[0]).toMatchObject({ frozen: false });
    expect(fixed.pools[0]?.pool.spec.addresses).toHaveLength(2);
  });

  it('puts nothing in force for an object invalid from the start, and says so', () => {
    const c = buildConfig({ IPAddressPool: [pool('x', ['192.0.2.20-192.0.2.10'])] });
    expect(c.pools).toEqual([]);
    expect(c.verdicts).toEqual([expect.objectContaining({ name: 'x', valid: false, kept: 'nothing' })]);
  });

  it('refuses the younger of two overlapping pools, and the winner never flips once chosen', () => {
    const first = buildConfig({ IPAddressPool: [pool('zeta', ['10.0.0.0/24'])] });
    const second = buildConfig({ IPAddressPool: [pool('zeta', ['10.0.0.0/24']), pool('alpha', ['10.0.0.0/25'])] }, first.lastGood);
    expect(second.pools.map((p) => p.pool.metadata.name)).toEqual(['zeta']);
    expect(second.verdicts[0]).toMatchObject({ name: 'alpha', reason: 'Overlap', kept: 'nothing' });
    // A pool whose status says it lost keeps losing after a restart (no previous build).
    const lost = { ...pool('alpha', ['10.0.0.0/25']), status: { conditions: [{ type: 'Valid', status: 'False', reason: 'Overlap' }] } };
    const restarted = buildConfig({ IPAddressPool: [lost, pool('zeta', ['10.0.0.0/24'], '2026-02-01T00:00:00Z')] });
    expect(restarted.pools.map((p) => p.pool.metadata.name)).toEqual(['zeta']);
  });

  it.each([
    ['L2Advertisement', { ipAddressPools: ['lab'] }, { ipAddressPools: 'lab' }],
    ['BGPAdvertisement', { localPref: 100 }, { localPref: -1 }],
    ['BGPPeer', { myASN: 64500, peerASN: 64512, peerAddress: '192.0.2.1' }, { myASN: 64500, peerASN: 64512, peerAddress: 'not-an-ip' }],
    ['BFDProfile', { receiveInterval: 300 }, { receiveInterval: 1 }],
    ['Community', { communities: [{ name: 'a', value: '64500:1' }] }, { communities: [{ name: 'a', value: 'x:y:z:w' }] }],
  ] as const)('keeps the last good %s in force through an invalid edit', (kind, goodSpec, badSpec) => {
    const t = new ConfigTracker();
    const field = { L2Advertisement: 'l2Advertisements', BGPAdvertisement: 'bgpAdvertisements', BGPPeer: 'bgpPeers', BFDProfile: 'bfdProfiles', Community: 'communities' }[kind];
    const good = t.update({ [kind]: [obj(kind, 'a', goodSpec)] } as ConfigInput);
    expect(good.verdicts).toEqual([expect.objectContaining({ valid: true })]);
    const before = (good as unknown as Record<string, unknown[]>)[field];
    const bad = t.update({ [kind]: [obj(kind, 'a', badSpec)] } as ConfigInput);
    expect(bad.verdicts).toEqual([expect.objectContaining({ kind, name: 'a', valid: false, reason: 'InvalidSpec', kept: 'lastGood' })]);
    expect((bad as unknown as Record<string, unknown[]>)[field]).toEqual(before);
    // A deleted object is gone, whatever its last good version was.
    expect((t.update({ [kind]: [] } as ConfigInput) as unknown as Record<string, unknown[]>)[field]).toEqual([]);
  });

  it('lists invalid objects first', () => {
    const c = buildConfig({ IPAddressPool: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.20-10.0.1.10'])], L2Advertisement: [obj('L2Advertisement', 'l2', {})] });
    expect(c.verdicts.map((v) => [v.name, v.valid])).toEqual([
      ['b', false],
      ['a', true],
      ['l2', true],
    ]);
  });

  it('builds the same configuration whatever the order the objects arrive in (every process agrees)', () => {
    const entries = ['10.0.0.0/24', '10.0.0.0/25', '10.0.1.0/24', '10.0.1.10-10.0.1.20', '10.0.1.30-10.0.1.5', '2001:db8::/120', 'bogus'];
    const arb = fc.array(
      fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd', 'e'), addrs: fc.subarray(entries, { minLength: 1, maxLength: 3 }), sec: fc.integer({ min: 0, max: 3 }) }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(arb, fc.array(fc.nat(), { maxLength: 2 }), (specs, seeds) => {
        const uniq = [...new Map(specs.map((s) => [s.name, s])).values()];
        const objs = uniq.map((s) => pool(s.name, s.addrs, `2026-01-01T00:00:0${s.sec}Z`));
        const shuffled = [...objs];
        for (const [i, n] of seeds.entries()) {
          const j = n % Math.max(1, shuffled.length);
          [shuffled[i % Math.max(1, shuffled.length)], shuffled[j]] = [shuffled[j], shuffled[i % Math.max(1, shuffled.length)]] as [Record<string, unknown>, Record<string, unknown>];
        }
        const a = buildConfig({ IPAddressPool: objs });
        const b = buildConfig({ IPAddressPool: shuffled.filter((x) => x !== undefined) });
        expect(b.pools).toEqual(a.pools);
        expect(b.verdicts).toEqual(a.verdicts);
      }),
      { numRuns: 200 },
    );
  });
});
