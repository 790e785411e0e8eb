import { describe, expect, it } from '@jest/globals';
import { buildPoolConfig, type RawPool } from './pools.js';

const pool = (name: string, addresses: unknown, t: string, extra: Record<string, unknown> = {}): RawPool => ({
  metadata: { name, creationTimestamp: t, generation: 1 },
  spec: { addresses, ...extra },
});

describe('pool configuration', () => {
  it('parses valid pools with MetalLB defaults', () => {
    const c = buildPoolConfig([pool('a', ['10.0.0.0/24'], '2026-01-01T00:00:00Z')], new Map());
    expect(c.pools).toEqual([expect.objectContaining({ name: 'a', autoAssign: true, avoidBuggyIPs: false })]);
    expect(c.verdicts).toEqual([expect.objectContaining({ name: 'a', valid: true, reason: 'Valid' })]);
  });

  it('refuses the newer of two overlapping pools, naming the older', () => {
    const c = buildPoolConfig(
      [pool('new', ['10.0.0.128/25'], '2026-02-01T00:00:00Z'), pool('old', ['10.0.0.0/24'], '2026-01-01T00:00:00Z')],
      new Map(),
    );
    expect(c.pools.map((p) => p.name)).toEqual(['old']);
    expect(c.invalid.get('new')).toContain('overlaps 10.0.0.0/24 of pool old, which was there first');
    expect(c.verdicts.find((v) => v.name === 'new')).toMatchObject({ valid: false, reason: 'Overlap' });
  });

  it('keeps the pool that was valid before as the winner, even when the other is older or sorts first', () => {
    const t = '2026-01-01T00:00:00Z';
    const first = buildPoolConfig([pool('zeta', ['10.0.0.0/24'], t)], new Map());
    const second = buildPoolConfig([pool('zeta', ['10.0.0.0/24'], t), pool('alpha', ['10.0.0.0/25'], t)], first.lastGood);
    expect(second.invalid.has('alpha')).toBe(true);
    expect(second.pools.map((p) => p.name)).toEqual(['zeta']);
  });

  it('after a restart, keeps refusing the pool whose status already says it lost an overlap', () => {
    const t = '2026-01-01T00:00:00Z';
    const lost = { ...pool('alpha', ['10.0.0.0/25'], t), status: { conditions: [{ type: 'Valid', status: 'False', reason: 'Overlap' }] } };
    const c = buildPoolConfig([lost, pool('zeta', ['10.0.0.0/24'], t)], new Map());
    expect(c.pools.map((p) => p.name)).toEqual(['zeta']);
  });

  it('reports a spec that does not parse, and keeps the last valid version frozen', () => {
    const first = buildPoolConfig([pool('a', ['10.0.0.0/24'], '2026-01-01T00:00:00Z')], new Map());
    const second = buildPoolConfig([pool('a', ['10.0.0.20-10.0.0.10'], '2026-01-01T00:00:00Z')], first.lastGood);
    expect(second.invalid.get('a')).toContain('runs backwards');
    expect(second.pools).toEqual([expect.objectContaining({ name: 'a', frozen: true })]);
    // Once the pool is deleted, its frozen version goes too.
    expect(buildPoolConfig([], second.lastGood).pools).toEqual([]);
  });

  it('never throws on garbage', () => {
    const c = buildPoolConfig([{ metadata: { name: 'x' }, spec: 42 }, { metadata: {} }, pool('y', [7], '')], new Map());
    expect(c.pools).toEqual([]);
    expect(c.verdicts.map((v) => v.reason)).toEqual(['InvalidSpec', 'InvalidSpec']);
  });
});
