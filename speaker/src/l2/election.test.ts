import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { electOwners, ownedBy, type Candidate, type Election } from './election.js';
import { fmix64, fnv1a64 } from './hash.js';

const nodeName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);

/** 4..20 nodes, 10..400 IPs, every IP eligible on every node. */
const arbCluster = fc.record({
  // size 'max': draw lengths across the whole range, not fast-check's default small sizes.
  nodes: fc.uniqueArray(nodeName, { minLength: 4, maxLength: 20, size: 'max' }),
  keys: fc.uniqueArray(fc.ipV4(), { minLength: 10, maxLength: 400, size: 'max' }),
});

const everywhere = (keys: readonly string[], nodes: readonly string[]): Candidate[] => keys.map((key) => ({ key, eligible: nodes }));
const ownerOf = (e: Election, key: string): string | undefined => e.placements.get(key)?.owner;
const notPreferred = (e: Election, key: string): boolean => e.placements.get(key)?.reason !== 'preferred';
const ceilAvg = (keys: number, nodes: number): number => Math.ceil((1.25 * keys) / nodes);

/** A deterministic, fast-check-free shuffle (Fisher-Yates on a seeded LCG). */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('stable hash', () => {
  it('is 64-bit FNV-1a over UTF-8 (published test vectors)', () => {
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
    expect(fnv1a64('ü')).toBe(0x0ac20a07b71807ean); // two UTF-8 octets, not one UTF-16 unit
  });

  it('finalises with MurmurHash3 fmix64', () => {
    expect(fmix64(0n)).toBe(0n);
    expect(fmix64(1n)).toBe(0xb456bcfc34c2cb2cn);
  });
});

describe('owner election', () => {
  it('gives every speaker the same answer: pinned owners for a fixed input', () => {
    // A change here changes ownership in a running cluster during a rolling
    // upgrade (old and new speakers would disagree): treat it as a breaking change.
    const nodes = ['node-a', 'node-b', 'node-c', 'node-d'];
    const keys = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.14', '2001:db8::10'];
    const e = electOwners(everywhere(keys, nodes));
    expect(Object.fromEntries([...e.placements].map(([k, p]) => [k, p.owner]))).toMatchInlineSnapshot(`
{
  "192.0.2.10": "node-a",
  "192.0.2.11": "node-d",
  "192.0.2.12": "node-b",
  "192.0.2.13": "node-b",
  "192.0.2.14": "node-d",
  "2001:db8::10": "node-a",
}
`);
  });

  it('does not depend on the order of keys, of eligible nodes, or on repeated entries', () => {
    fc.assert(
      fc.property(arbCluster, fc.integer(), (c, seed) => {
        const a = electOwners(everywhere(c.keys, c.nodes));
        const input = shuffled(c.keys, seed).map((key, i) => ({ key, eligible: shuffled(c.nodes, seed + i) }));
        const b = electOwners([...input, ...input.slice(0, 3)]);
        expect([...b.placements]).toEqual([...a.placements]);
        expect(new Map([...b.load].sort())).toEqual(new Map([...a.load].sort()));
      }),
      { numRuns: 100 },
    );
  });

  it('never gives a node more than ceil(1.25 x average) IPs, and places every IP', () => {
    fc.assert(
      fc.property(arbCluster, (c) => {
        const e = electOwners(everywhere(c.keys, c.nodes));
        const bound = ceilAvg(c.keys.length, c.nodes.length);
        for (const n of c.nodes) expect(ownedBy(e, n).length).toBeLessThanOrEqual(bound);
        for (const p of e.placements.values()) expect(p.reason === 'preferred' || p.reason === 'rebalanced').toBe(true);
        expect([...e.load.values()].reduce((x, y) => x + y, 0)).toBe(c.keys.length);
      }),
      { numRuns: 300 },
    );
  });

  it('respects per-IP eligibility, and goes over capacity only when every eligible node is full', () => {
    const arb = fc
      .uniqueArray(nodeName, { minLength: 1, maxLength: 12 })
      .chain((nodes) =>
        fc.tuple(
          fc.constant(nodes),
          fc.uniqueArray(fc.tuple(fc.ipV4(), fc.subarray(nodes)), { minLength: 1, maxLength: 150, selector: ([ip]) => ip }),
        ),
      );
    fc.assert(
      fc.property(arb, ([, keys]) => {
        const e = electOwners(keys.map(([key, eligible]) => ({ key, eligible })));
        for (const [key, eligible] of keys) {
          const p = e.placements.get(key);
          if (eligible.length === 0) {
            expect(p).toEqual({ owner: undefined, reason: 'noEligibleNode' });
            continue;
          }
          expect(eligible).toContain(p?.owner);
          if (p?.reason === 'overCapacity') {
            for (const n of eligible) expect(e.load.get(n) ?? 0).toBeGreaterThanOrEqual(e.capacity.get(n) ?? 0);
          }
        }
        for (const [n, load] of e.load) {
          if (load > (e.capacity.get(n) ?? 0)) expect(ownedBy(e, n).some((k) => e.placements.get(k)?.reason === 'overCapacity')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('announces a shared IP only from a node eligible for every Service that shares it', () => {
    const e = electOwners([
      { key: '192.0.2.10', eligible: ['a', 'b', 'c'] },
      { key: '192.0.2.10', eligible: ['b', 'c', 'd'] },
      { key: '192.0.2.11', eligible: ['a'] },
      { key: '192.0.2.11', eligible: ['b'] },
    ]);
    expect(['b', 'c']).toContain(ownerOf(e, '192.0.2.10'));
    expect(e.placements.get('192.0.2.11')).toEqual({ owner: undefined, reason: 'noEligibleNode' });
  });

  it('balances each group of nodes on its own (two pools on disjoint nodes)', () => {
    const poolA = Array.from({ length: 100 }, (_, i) => ({ key: `10.0.0.${i}`, eligible: ['a1', 'a2', 'a3', 'a4'] }));
    const poolB = Array.from({ length: 4 }, (_, i) => ({ key: `10.1.0.${i}`, eligible: ['b1', 'b2', 'b3', 'b4'] }));
    const e = electOwners([...poolA, ...poolB]);
    // 100 IPs on 4 nodes: 25 each on average, bound 32; 4 IPs on 4 nodes: bound 2.
    expect(e.capacity.get('a1')).toBe(32);
    expect(e.capacity.get('b1')).toBe(2);
    expect([...e.placements.values()].every((p) => p.reason !== 'overCapacity')).toBe(true);
  });

  it('puts IPs with few eligible nodes first, so they do not overflow behind IPs that could go anywhere', () => {
    // 30 IPs whose only endpoints run on node-1 (externalTrafficPolicy: Local), 100 anywhere.
    const local = Array.from({ length: 30 }, (_, i) => ({ key: `10.0.1.${i}`, eligible: ['node-1'] }));
    const anywhere = Array.from({ length: 100 }, (_, i) => ({ key: `10.0.2.${i}`, eligible: Array.from({ length: 10 }, (_, j) => `node-${j + 1}`) }));
    const e = electOwners([...anywhere, ...local]);
    expect(ownedBy(e, 'node-1')).toHaveLength(30);
    expect(local.every(({ key }) => ownerOf(e, key) === 'node-1')).toBe(true);
    for (let j = 2; j <= 10; j++) expect(ownedBy(e, `node-${j}`).length).toBeLessThanOrEqual(e.capacity.get(`node-${j}`) ?? 0);
  });
});

describe('movement on membership change', () => {
  // Lemma (see the ADR): scores are per (IP, node) pair, so removing or adding a
  // node never reorders the others. An IP at its first choice both before and
  // after therefore keeps its owner unless that owner left or the new node is its
  // new first choice. Every other move involves an IP placed below its first
  // choice (rebalanced) before or after, which is what the bound costs.
  it('moves, when a node leaves, only its IPs and IPs that were or become rebalanced', () => {
    fc.assert(
      fc.property(arbCluster, fc.nat(), (c, i) => {
        const gone = c.nodes[i % c.nodes.length] as string;
        const before = electOwners(everywhere(c.keys, c.nodes));
        const after = electOwners(everywhere(c.keys, c.nodes.filter((n) => n !== gone)));
        for (const k of c.keys) {
          if (ownerOf(before, k) === ownerOf(after, k) || ownerOf(before, k) === gone) continue;
          expect(notPreferred(before, k) || notPreferred(after, k)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('moves, when a node joins, only IPs to it and IPs that were or become rebalanced', () => {
    fc.assert(
      fc.property(arbCluster, (c) => {
        const joined = 'zz-new-node';
        const before = electOwners(everywhere(c.keys, c.nodes));
        const after = electOwners(everywhere(c.keys, [...c.nodes, joined]));
        for (const k of c.keys) {
          if (ownerOf(before, k) === ownerOf(after, k) || ownerOf(after, k) === joined) continue;
          expect(notPreferred(before, k) || notPreferred(after, k)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  // The numbers: 300 fixed clusters (seeded, so the test is exact, not flaky).
  // Measured at the time of writing, over 4,000 random clusters: removal moved
  // 1.19 IPs beyond the leaving node's own on average (p99 6, max 10); joining
  // moved 1.09x the ideal K/(N+1) (p50), 1.25 extra IPs on average.
  const cases = fc.sample(fc.tuple(arbCluster, fc.nat()), { seed: 20261121, numRuns: 300 });

  it('removing one of N nodes moves its own IPs plus a few: under 10% extra overall, at most 12 in any case', () => {
    let necessary = 0;
    let extra = 0;
    let worst = 0;
    for (const [c, i] of cases) {
      const gone = c.nodes[i % c.nodes.length] as string;
      const before = electOwners(everywhere(c.keys, c.nodes));
      const after = electOwners(everywhere(c.keys, c.nodes.filter((n) => n !== gone)));
      const moved = c.keys.filter((k) => ownerOf(before, k) !== ownerOf(after, k)).length;
      const own = ownedBy(before, gone).length;
      necessary += own;
      extra += moved - own;
      worst = Math.max(worst, moved - own);
    }
    expect(extra / necessary).toBeLessThan(0.1);
    expect(worst).toBeLessThanOrEqual(12);
  });

  it('adding a node to N moves about 1/(N+1) of the IPs', () => {
    let moved = 0;
    let ideal = 0;
    for (const [c] of cases) {
      const before = electOwners(everywhere(c.keys, c.nodes));
      const after = electOwners(everywhere(c.keys, [...c.nodes, 'zz-new-node']));
      moved += c.keys.filter((k) => ownerOf(before, k) !== ownerOf(after, k)).length;
      ideal += c.keys.length / (c.nodes.length + 1);
      // The new node takes at most its capacity.
      expect(ownedBy(after, 'zz-new-node').length).toBeLessThanOrEqual(ceilAvg(c.keys.length, c.nodes.length + 1));
    }
    expect(moved / ideal).toBeGreaterThan(0.9);
    expect(moved / ideal).toBeLessThan(1.2);
  });
});
