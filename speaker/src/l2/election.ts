/**
 * Which node announces each L2 IP: rendezvous (highest-random-weight) hashing
 * with a bounded-load pass. Pure and deterministic: every speaker that sees the
 * same keys and eligible nodes computes the same owners, whatever the order of
 * its input. See docs/adr/0005-l2-owner-election.md for the choice and numbers.
 *
 * 1. Rank: for each key, its eligible nodes ordered by score(key, node), a
 *    64-bit hash of both (highest first, node name breaking ties). Without
 *    the bound, the owner would be the first: plain HRW, as MetalLB does.
 * 2. Bound: nodes linked by shared keys form components (usually one per set of
 *    nodes an L2 advertisement selects); each node of a component may own at
 *    most ceil(1.25 * keys / nodes) of that component's keys (Mirrokni, Thorup,
 *    Zadimoghaddam 2016's c = 1 + epsilon, epsilon = 0.25). Keys are placed in a
 *    fixed order (fewest eligible nodes first, then by hash) on their
 *    best-ranked node with room.
 * 3. Overflow: a key whose eligible nodes are all full still gets an owner (an IP
 *    nobody announces is an outage; an unbalanced one is not): the least loaded
 *    of them, reported as `overCapacity`. With every key eligible on the same
 *    nodes this never happens, because capacity * nodes >= 1.25 * keys.
 */
import { fmix64, fnv1a64 } from './hash.js';

/** One sharing group to place: its key (the canonical IP text) and the nodes that may announce it. */
export interface Candidate {
  readonly key: string;
  readonly eligible: Iterable<string>;
}

/** How an owner was chosen. */
export type OwnerReason =
  /** The key's highest-ranked eligible node: where plain HRW puts it. */
  | 'preferred'
  /** A lower-ranked node, because the ones above it were at capacity. */
  | 'rebalanced'
  /** Every eligible node was at capacity; the least loaded took it anyway. */
  | 'overCapacity';

export type Placement =
  | { readonly owner: string; readonly reason: OwnerReason }
  | { readonly owner: undefined; readonly reason: 'noEligibleNode' };

export interface Election {
  /** Every input key, in key order. */
  readonly placements: ReadonlyMap<string, Placement>;
  /** Keys owned per node (nodes that own none are absent). */
  readonly load: ReadonlyMap<string, number>;
  /** The bound each eligible node was held to. */
  readonly capacity: ReadonlyMap<string, number>;
}

interface Ranked {
  readonly key: string;
  readonly order: bigint;
  /** Eligible nodes, best first. */
  readonly ranking: readonly string[];
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Services that share an IP appear as several candidates with the same key; the
 * IP can only be announced from a node that may serve all of them, so their
 * eligible sets are intersected.
 */
function mergeByKey(candidates: Iterable<Candidate>): Map<string, Set<string>> {
  const merged = new Map<string, Set<string>>();
  for (const c of candidates) {
    const nodes = new Set(c.eligible);
    const prev = merged.get(c.key);
    merged.set(c.key, prev === undefined ? nodes : new Set([...prev].filter((n) => nodes.has(n))));
  }
  return merged;
}

function rank(key: string, eligible: ReadonlySet<string>, nodeHash: (n: string) => bigint): Ranked {
  const kh = fnv1a64(key);
  const scored = [...eligible].map((node) => ({ node, score: fmix64(kh ^ nodeHash(node)) }));
  scored.sort((a, b) => (a.score === b.score ? compareStrings(a.node, b.node) : a.score > b.score ? -1 : 1));
  return { key, order: fmix64(kh), ranking: scored.map((s) => s.node) };
}

/** Per node, ceil(1.25 * keys / nodes) of its component (union-find over shared keys). */
function capacities(ranked: readonly Ranked[]): Map<string, number> {
  const parent = new Map<string, string>();
  const find = (n: string): string => {
    let root = n;
    for (let p = parent.get(root); p !== undefined && p !== root; p = parent.get(root)) root = p;
    parent.set(n, root);
    return root;
  };
  for (const r of ranked) {
    for (const n of r.ranking) if (!parent.has(n)) parent.set(n, n);
    const [first, ...rest] = r.ranking;
    if (first === undefined) continue;
    for (const n of rest) {
      const a = find(first);
      const b = find(n);
      // The smaller name becomes the root, so the structure does not depend on input order.
      if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
    }
  }
  const keys = new Map<string, number>();
  const nodes = new Map<string, number>();
  for (const r of ranked) {
    const first = r.ranking[0];
    if (first !== undefined) keys.set(find(first), (keys.get(find(first)) ?? 0) + 1);
  }
  for (const n of parent.keys()) nodes.set(find(n), (nodes.get(find(n)) ?? 0) + 1);
  const cap = new Map<string, number>();
  for (const n of [...parent.keys()].sort(compareStrings)) {
    const root = find(n);
    const k = keys.get(root) ?? 0;
    const m = nodes.get(root) ?? 1;
    // ceil(1.25 * k / m) as ceil(5k / 4m) in integers: the bound is a cluster-wide
    // contract, so it is computed without any floating point to reason about.
    cap.set(n, Math.floor((5 * k + 4 * m - 1) / (4 * m)));
  }
  return cap;
}

/**
 * Elects an owner for every key. Deterministic: the result depends only on the
 * set of (key, eligible nodes) pairs, not on the order of `candidates` or of
 * their eligible lists.
 */
export function electOwners(candidates: Iterable<Candidate>): Election {
  const merged = mergeByKey(candidates);
  const nodeHashes = new Map<string, bigint>();
  const nodeHash = (n: string): bigint => {
    let h = nodeHashes.get(n);
    if (h === undefined) {
      h = fmix64(fnv1a64(n));
      nodeHashes.set(n, h);
    }
    return h;
  };
  const ranked = [...merged].map(([key, eligible]) => rank(key, eligible, nodeHash));
  const capacity = capacities(ranked);

  // Most constrained first: a key with two eligible nodes should get one of them
  // before keys that could go anywhere fill both. Ties by hash, not by name, so
  // that neighbouring IPs are not all placed at the same end of the order.
  const order = [...ranked].sort(
    (a, b) => a.ranking.length - b.ranking.length || (a.order === b.order ? compareStrings(a.key, b.key) : a.order < b.order ? -1 : 1),
  );
  const load = new Map<string, number>();
  const chosen = new Map<string, Placement>();
  for (const r of order) {
    const p = place(r, load, capacity);
    if (p.owner !== undefined) load.set(p.owner, (load.get(p.owner) ?? 0) + 1);
    chosen.set(r.key, p);
  }

  const placements = new Map<string, Placement>();
  for (const key of [...chosen.keys()].sort(compareStrings)) placements.set(key, chosen.get(key) as Placement);
  return { placements, load, capacity };
}

function place(r: Ranked, load: ReadonlyMap<string, number>, capacity: ReadonlyMap<string, number>): Placement {
  if (r.ranking.length === 0) return { owner: undefined, reason: 'noEligibleNode' };
  const i = r.ranking.findIndex((n) => (load.get(n) ?? 0) < (capacity.get(n) ?? 0));
  const withRoom = r.ranking[i];
  if (withRoom !== undefined) return { owner: withRoom, reason: i === 0 ? 'preferred' : 'rebalanced' };
  let best = r.ranking[0] as string;
  for (const n of r.ranking) if ((load.get(n) ?? 0) < (load.get(best) ?? 0)) best = n;
  return { owner: best, reason: 'overCapacity' };
}

/** The keys `node` owns, in key order. */
export function ownedBy(e: Election, node: string): string[] {
  return [...e.placements].filter(([, p]) => p.owner === node).map(([k]) => k);
}
