import { formatIP, rangeContains, type Family, type IP } from '@herald/shared/ip';
import { anySelectorMatches } from '@herald/shared/labels';
import { canShare, sharingConflict } from './sharing.js';
import { poolStats } from './stats.js';
import type { Assignment, Decision, FailureReason, PoolModel, PoolStats, PoolVerdict, ServiceRequest, SharingInfo } from './types.js';

/** Who holds one IP: the pool it came from and every Service on it (more than one only when shared). */
interface Holding {
  pool: string;
  readonly services: Map<string, SharingInfo>;
}

interface Held {
  pool: string;
  ips: IP[];
  sharing: SharingInfo;
  /** When no pool contained these IPs any more (clock ms); cleared when one does again. */
  orphanedAt?: number | undefined;
}

export interface AllocatorOptions {
  /** Time source for the orphan grace period (ms). */
  readonly now?: () => number;
  /**
   * How long an IP that no pool contains stays with its Service before it is
   * released. Renaming or splitting a pool with kubectl is a delete and a create;
   * in between no pool contains the IPs, and without a grace they would move.
   */
  readonly orphanGraceMs?: number;
}

const FAMILY_NAME: Record<Family, string> = { 4: 'IPv4', 6: 'IPv6' };

/** A failure decision; `considered` is attached by the caller. */
type Failure = { reason: FailureReason; message: string };

/**
 * The IP allocator: a pure, deterministic, in-memory model of which Service
 * holds which IP. It does no I/O; the controller rebuilds it at start from
 * Service status (Services that already hold IPs first), then feeds it one
 * Service at a time from the work queue.
 *
 * Memory is proportional to the IPs in use, never to pool sizes: a pool is a
 * list of ranges, used addresses live in one map per family, and the search
 * for the lowest free address starts from a per-range cursor.
 */
export class Allocator {
  private readonly now: () => number;
  private readonly orphanGraceMs: number;
  private pools: PoolModel[] = [];
  private poolsByName = new Map<string, PoolModel>();
  /** Pools whose current spec is invalid, with why; for messages only. */
  private invalid = new Map<string, string>();
  private readonly used: Record<Family, Map<bigint, Holding>> = { 4: new Map(), 6: new Map() };
  private readonly held = new Map<string, Held>();
  /** Lowest address per (pool, range index) that might be free. */
  private cursors = new Map<string, bigint[]>();
  /** Assigned IPs per pool and family, kept current for status and metrics. */
  private counts = new Map<string, Record<Family, bigint>>();

  constructor(opts: AllocatorOptions = {}) {
    this.now = opts.now ?? ((): number => 0);
    this.orphanGraceMs = opts.orphanGraceMs ?? 0;
  }

  /**
   * Replaces the pool set. Holdings stay; an IP that a pool of another name now
   * contains (rename, split) moves to it. Returns the Services whose IPs no
   * pool contains any more: the caller reconciles them, and they get new IPs.
   */
  setPools(pools: readonly PoolModel[], invalid: ReadonlyMap<string, string> = new Map()): string[] {
    this.pools = [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.poolsByName = new Map(this.pools.map((p) => [p.name, p]));
    this.invalid = new Map(invalid);
    this.cursors = new Map(this.pools.map((p) => [p.name, p.ranges.map((r) => r.first)]));
    this.counts = new Map(this.pools.map((p) => [p.name, { 4: 0n, 6: 0n }]));
    const orphans = new Set<string>();
    for (const fam of [4, 6] as const) {
      for (const [value, h] of this.used[fam]) {
        const pool = this.poolContaining({ family: fam, value });
        if (!pool) {
          // No pool: never offered for sharing, counted nowhere, until a pool contains it again.
          h.pool = '';
          for (const k of h.services.keys()) orphans.add(k);
          continue;
        }
        h.pool = pool.name;
        this.bump(pool.name, fam, 1n);
      }
    }
    for (const [key, held] of this.held) {
      const first = held.ips[0];
      const h = first && this.used[first.family].get(first.value);
      if (orphans.has(key)) held.orphanedAt ??= this.now();
      else {
        held.orphanedAt = undefined;
        if (h) held.pool = h.pool;
      }
    }
    return [...orphans].sort();
  }

  /** What a Service holds now, if anything. */
  assignmentOf(key: string): Assignment | undefined {
    const h = this.held.get(key);
    return h && { pool: h.pool, ips: [...h.ips] };
  }

  /** Every Service holding `ip` (several when shared). */
  holdersOf(ip: IP): string[] {
    return [...(this.used[ip.family].get(ip.value)?.services.keys() ?? [])].sort();
  }

  /** Exact counts for one pool's status, or undefined for an unknown pool. */
  stats(pool: string): PoolStats | undefined {
    const p = this.poolsByName.get(pool);
    const c = this.counts.get(pool);
    return p && c && { total: poolStats(p), assigned: { ...c } };
  }

  /** Number of Services holding IPs. */
  get size(): number {
    return this.held.size;
  }

  /**
   * Restores an assignment read from Service status at start-up, so that IPs
   * never move across restarts. Refused (returning why) when another Service
   * that may not share it got the IP first, or no pool contains it; the caller
   * then lets the Service be reconciled normally.
   */
  restore(req: ServiceRequest, ips: readonly IP[]): { ok: true } | { ok: false; why: string } {
    if (ips.length === 0) return { ok: false, why: 'no IPs' };
    let pool: PoolModel | undefined;
    for (const ip of ips) {
      const p = this.poolContaining(ip);
      if (!p) return { ok: false, why: `no pool contains ${formatIP(ip)}` };
      if (pool && p.name !== pool.name) return { ok: false, why: `its IPs lie in two pools (${pool.name}, ${p.name})` };
      pool = p;
      const conflict = this.conflictAt(ip, req);
      if (conflict) return { ok: false, why: conflict.message };
    }
    if (!pool) return { ok: false, why: 'no pool' };
    this.release(req.key);
    this.hold(req.key, pool.name, ips, req.sharing);
    return { ok: true };
  }

  /** Frees whatever `key` holds; returns it. */
  release(key: string): Assignment | undefined {
    const h = this.held.get(key);
    if (!h) return undefined;
    this.held.delete(key);
    for (const ip of h.ips) {
      const holding = this.used[ip.family].get(ip.value);
      if (!holding) continue;
      holding.services.delete(key);
      if (holding.services.size > 0) continue;
      this.used[ip.family].delete(ip.value);
      this.bump(holding.pool, ip.family, -1n);
      this.rewindCursor(holding.pool, ip);
    }
    return { pool: h.pool, ips: h.ips };
  }

  /**
   * Decides the IPs of one Service: keeps what it holds while that still
   * answers its request, otherwise allocates. Deterministic for the same state.
   */
  assign(req: ServiceRequest): Decision {
    const cur = this.held.get(req.key);
    let moveReason: string | undefined;
    let previous: Assignment | undefined;
    if (cur) {
      moveReason = this.whyNotKeep(req, cur);
      const graceLeft = cur.orphanedAt === undefined ? 0 : cur.orphanedAt + this.orphanGraceMs - this.now();
      if (moveReason === undefined || (graceLeft > 0 && moveReason.startsWith('no pool contains'))) {
        this.updateSharing(req.key, cur, req.sharing);
        const kept = { ok: true as const, action: 'Kept' as const, assignment: { pool: cur.pool, ips: [...cur.ips] }, considered: [] };
        return moveReason === undefined ? kept : { ...kept, releaseInMs: graceLeft, moveReason };
      }
      previous = this.release(req.key);
    }
    const considered: PoolVerdict[] = [];
    const result = req.requestedIPs.length > 0 ? this.allocateRequested(req, considered) : this.allocateFree(req, considered);
    if ('reason' in result) {
      return { ok: false, ...result, considered, ...(previous ? { released: previous, releaseReason: moveReason ?? '' } : {}) };
    }
    this.hold(req.key, result.pool, result.ips, req.sharing);
    const base = { ok: true as const, assignment: result, considered };
    return previous ? { ...base, action: 'Moved', moveReason: moveReason ?? '', previous } : { ...base, action: 'Allocated' };
  }

  // ---- keeping ----

  /** Why the current IPs no longer answer the Service's request, or undefined to keep them. */
  private whyNotKeep(req: ServiceRequest, cur: Held): string | undefined {
    const ips = cur.ips.map(formatIP).join(', ');
    const pool = this.poolsByName.get(cur.pool);
    for (const ip of cur.ips) {
      const containing = this.poolContaining(ip);
      if (!containing) return `no pool contains ${formatIP(ip)} any more`;
    }
    if (req.requestedIPs.length > 0) {
      const want = new Set(req.requestedIPs.map(formatIP));
      if (want.size !== cur.ips.length || !cur.ips.every((ip) => want.has(formatIP(ip)))) {
        return `the Service now requests ${[...want].join(', ')} instead of ${ips}`;
      }
    } else if (req.pool !== undefined && req.pool !== cur.pool) {
      return `the Service now requests pool ${req.pool} instead of ${cur.pool}`;
    }
    const fams = cur.ips.map((ip) => ip.family);
    if (!fams.every((f) => req.families.includes(f))) return `the Service's IP families are now ${req.families.map((f) => FAMILY_NAME[f]).join(', ')}`;
    if (req.policy === 'SingleStack' && (fams.length !== 1 || fams[0] !== req.families[0])) return 'the Service is now single-stack';
    if (req.policy === 'RequireDualStack' && new Set(fams).size < 2) return 'the Service now requires dual-stack';
    for (const ip of cur.ips) {
      const conflict = this.conflictAt(ip, req);
      if (conflict) return `it can no longer share ${formatIP(ip)}: ${conflict.message}`;
    }
    return pool === undefined && this.poolsByName.size === 0 ? 'no pools exist' : undefined;
  }

  private updateSharing(key: string, cur: Held, sharing: SharingInfo): void {
    cur.sharing = sharing;
    for (const ip of cur.ips) this.used[ip.family].get(ip.value)?.services.set(key, sharing);
  }

  // ---- choosing pools ----

  private admits(pool: PoolModel, req: ServiceRequest): string | undefined {
    const a = pool.allocation;
    if (!a) return undefined;
    if (a.namespaces.length > 0 && !a.namespaces.includes(req.namespace)) {
      return `serviceAllocation.namespaces does not include ${req.namespace}`;
    }
    if (a.namespaceSelectors.length > 0 && !anySelectorMatches(a.namespaceSelectors, req.namespaceLabels)) {
      return `no serviceAllocation.namespaceSelectors matches namespace ${req.namespace}`;
    }
    if (a.serviceSelectors.length > 0 && !anySelectorMatches(a.serviceSelectors, req.labels)) {
      return 'no serviceAllocation.serviceSelectors matches the Service';
    }
    return undefined;
  }

  /**
   * Candidate pools in preference order, with a verdict for every pool left out.
   * Named pool: that one only. Otherwise auto-assign pools whose serviceAllocation
   * admits the Service by ascending priority (unset last), then auto-assign pools
   * without serviceAllocation; ties by name (the pool list is sorted by name).
   */
  private candidates(req: ServiceRequest, considered: PoolVerdict[]): PoolModel[] | Failure {
    if (req.pool !== undefined) {
      const p = this.poolsByName.get(req.pool);
      const invalid = this.invalid.get(req.pool);
      if (!p || (p.frozen && invalid)) {
        const why = invalid ? `is invalid: ${invalid}` : 'does not exist';
        considered.push({ pool: req.pool, verdict: 'notAdmitted', detail: `requested pool ${why}` });
        return { reason: 'NoMatchingPool', message: `the requested pool ${req.pool} ${why}` };
      }
      const no = this.admits(p, req);
      if (no) {
        considered.push({ pool: p.name, verdict: 'notAdmitted', detail: no });
        return { reason: 'NoMatchingPool', message: `the requested pool ${p.name} does not admit this Service: ${no}` };
      }
      return [p];
    }
    const withAlloc: PoolModel[] = [];
    const plain: PoolModel[] = [];
    for (const p of this.pools) {
      if (p.frozen) considered.push({ pool: p.name, verdict: 'frozen', detail: `invalid: ${this.invalid.get(p.name) ?? 'see pool status'}` });
      else if (!p.autoAssign) considered.push({ pool: p.name, verdict: 'autoAssignOff', detail: 'autoAssign is false: used only when requested by name or IP' });
      else {
        const no = this.admits(p, req);
        if (no) considered.push({ pool: p.name, verdict: 'notAdmitted', detail: no });
        else (p.allocation ? withAlloc : plain).push(p);
      }
    }
    const prio = (p: PoolModel): number => p.allocation?.priority ?? Number.POSITIVE_INFINITY;
    withAlloc.sort((a, b) => prio(a) - prio(b)); // stable: name order within a priority
    const out = [...withAlloc, ...plain];
    if (out.length === 0) {
      const why = this.pools.length === 0 ? 'no IPAddressPool exists in the controller namespace' : 'no pool admits this Service';
      return { reason: 'NoMatchingPool', message: `${why}${considered.length ? ` (${considered.map((c) => `${c.pool}: ${c.detail}`).join('; ')})` : ''}` };
    }
    return out;
  }

  /** Family sets to try, in order, per ipFamilyPolicy. */
  private familyPlans(req: ServiceRequest): Family[][] {
    const [primary, secondary] = req.families;
    if (primary === undefined) return [];
    if (req.policy === 'SingleStack' || secondary === undefined) return [[primary]];
    if (req.policy === 'RequireDualStack') return [[primary, secondary]];
    return [[primary, secondary], [primary], [secondary]];
  }

  private allocateFree(req: ServiceRequest, considered: PoolVerdict[]): Assignment | Failure {
    const pools = this.candidates(req, considered);
    if (!Array.isArray(pools)) return pools;
    const plans = this.familyPlans(req);
    // A Service with a sharing key goes on an IP it can share before a free one.
    if (req.sharing.key !== undefined) {
      for (const fams of plans) {
        for (const p of pools) {
          const ips = this.pick(p, fams, req, true);
          if (ips) {
            considered.push({ pool: p.name, verdict: 'chosen', detail: `shares ${ips.map(formatIP).join(', ')}` });
            return { pool: p.name, ips };
          }
        }
      }
    }
    const misses = new Map<string, PoolVerdict>();
    for (const fams of plans) {
      for (const p of pools) {
        const ips = this.pick(p, fams, req, false);
        if (ips) {
          considered.push({ pool: p.name, verdict: 'chosen', detail: `lowest free ${ips.map(formatIP).join(', ')}` });
          return { pool: p.name, ips };
        }
        if (!misses.has(p.name)) misses.set(p.name, this.missVerdict(p, fams));
      }
    }
    considered.push(...misses.values());
    const lacks = [...misses.values()].every((v) => v.verdict === 'lacksFamily');
    const need = (plans[0] ?? []).map((f) => FAMILY_NAME[f]).join(' and ');
    const detail = [...misses.values()].map((v) => `${v.pool}: ${v.detail}`).join('; ');
    return lacks
      ? { reason: 'NoMatchingPool', message: `no pool that admits this Service has ${need} addresses (${detail})` }
      : { reason: 'PoolExhausted', message: `no free ${need} address in the pools that admit this Service (${detail})` };
  }

  private missVerdict(p: PoolModel, fams: Family[]): PoolVerdict {
    const lacking = fams.filter((f) => !p.ranges.some((r) => r.family === f));
    if (lacking.length > 0) return { pool: p.name, verdict: 'lacksFamily', detail: `has no ${lacking.map((f) => FAMILY_NAME[f]).join('/')} addresses` };
    return { pool: p.name, verdict: 'exhausted', detail: `no free ${fams.map((f) => FAMILY_NAME[f]).join('+')} address` };
  }

  /** One IP per family from pool `p`, or undefined. With `shareOnly`, only IPs the Service can share. */
  private pick(p: PoolModel, fams: Family[], req: ServiceRequest, shareOnly: boolean): IP[] | undefined {
    const out: IP[] = [];
    for (const f of fams) {
      const ip = this.shareable(p, f, req) ?? (shareOnly ? undefined : this.lowestFree(p, f));
      if (!ip) return undefined;
      out.push(ip);
    }
    return out;
  }

  /** The lowest IP of family `f` in pool `p` that the Service may share, if any. */
  private shareable(p: PoolModel, f: Family, req: ServiceRequest): IP | undefined {
    if (req.sharing.key === undefined) return undefined;
    let best: bigint | undefined;
    for (const [value, h] of this.used[f]) {
      if (h.pool !== p.name || (best !== undefined && value >= best)) continue;
      if ([...h.services.values()].every((s) => canShare(s, req.sharing))) best = value;
    }
    return best === undefined ? undefined : { family: f, value: best };
  }

  /** The lowest free address of family `f`, scanning ranges in the order listed. */
  private lowestFree(p: PoolModel, f: Family): IP | undefined {
    const cursors = this.cursors.get(p.name);
    if (!cursors) return undefined;
    const used = this.used[f];
    for (let i = 0; i < p.ranges.length; i++) {
      const r = p.ranges[i];
      if (!r || r.family !== f) continue;
      let v = cursors[i] ?? r.first;
      while (v <= r.last && (used.has(v) || (p.avoidBuggyIPs && isBuggy(f, v)))) v++;
      cursors[i] = v;
      if (v <= r.last) return { family: f, value: v };
    }
    return undefined;
  }

  private rewindCursor(pool: string, ip: IP): void {
    const p = this.poolsByName.get(pool);
    const cursors = this.cursors.get(pool);
    if (!p || !cursors) return;
    p.ranges.forEach((r, i) => {
      if (rangeContains(r, ip) && (cursors[i] ?? r.first) > ip.value) cursors[i] = ip.value;
    });
  }

  // ---- requested IPs ----

  private allocateRequested(req: ServiceRequest, considered: PoolVerdict[]): Assignment | Failure {
    const fams = req.requestedIPs.map((ip) => ip.family);
    const text = req.requestedIPs.map(formatIP).join(', ');
    if (new Set(fams).size !== fams.length) return { reason: 'InvalidRequest', message: `at most one requested IP per family: ${text}` };
    const wrong = fams.find((f) => !req.families.includes(f));
    if (wrong !== undefined) {
      return { reason: 'InvalidRequest', message: `requested ${FAMILY_NAME[wrong]} address but the Service's ipFamilies are ${req.families.map((f) => FAMILY_NAME[f]).join(', ')}` };
    }
    if (req.policy === 'SingleStack' && fams.length > 1) return { reason: 'InvalidRequest', message: `a single-stack Service takes one IP, not ${text}` };
    if (req.policy === 'RequireDualStack' && fams.length < 2) {
      return { reason: 'InvalidRequest', message: `a RequireDualStack Service must request one IPv4 and one IPv6 address, not only ${text}` };
    }
    let pool: PoolModel | undefined;
    for (const ip of req.requestedIPs) {
      const p = this.poolContaining(ip, true);
      if (!p) return { reason: 'NoMatchingPool', message: `no pool contains the requested IP ${formatIP(ip)}` };
      if (req.pool !== undefined && p.name !== req.pool) {
        return { reason: 'NoMatchingPool', message: `the requested IP ${formatIP(ip)} is in pool ${p.name}, not in the requested pool ${req.pool}` };
      }
      if (pool && pool.name !== p.name) return { reason: 'InvalidRequest', message: `the requested IPs lie in two pools (${pool.name}, ${p.name})` };
      const no = this.admits(p, req);
      if (no) {
        considered.push({ pool: p.name, verdict: 'notAdmitted', detail: no });
        return { reason: 'NoMatchingPool', message: `pool ${p.name} contains ${formatIP(ip)} but does not admit this Service: ${no}` };
      }
      // MetalLB refuses a requested .0 or .255 from such a pool too. Only new requests: a
      // Service that already holds one keeps it (restore and keep never check this).
      if (p.avoidBuggyIPs && isBuggy(ip.family, ip.value)) {
        return { reason: 'InvalidRequest', message: `the requested IP ${formatIP(ip)} ends in .0 or .255, which pool ${p.name} avoids (avoidBuggyIPs: true): request another address` };
      }
      pool = p;
    }
    for (const ip of req.requestedIPs) {
      const conflict = this.conflictAt(ip, req);
      if (conflict) return conflict;
    }
    if (!pool) return { reason: 'NoMatchingPool', message: 'no pool' };
    considered.push({ pool: pool.name, verdict: 'chosen', detail: `contains the requested ${text}` });
    return { pool: pool.name, ips: [...req.requestedIPs] };
  }

  /** Why the Service cannot hold `ip` given who else holds it, or undefined. */
  private conflictAt(ip: IP, req: ServiceRequest): Failure | undefined {
    const h = this.used[ip.family].get(ip.value);
    if (!h) return undefined;
    for (const [other, s] of h.services) {
      if (other === req.key) continue;
      if (req.sharing.key === undefined || s.key !== req.sharing.key) {
        return { reason: 'RequestedIPInUse', message: `${formatIP(ip)} is in use by ${other}${s.key === undefined ? '' : ` (sharing key ${s.key})`} and this Service may not share it: the sharing keys differ` };
      }
      const why = sharingConflict(s, req.sharing);
      if (why) return { reason: 'SharingConflict', message: `${formatIP(ip)} is shared by ${other} but ${why}` };
    }
    return undefined;
  }

  // ---- bookkeeping ----

  private poolContaining(ip: IP, excludeFrozen = false): PoolModel | undefined {
    // Live pools win over frozen ones: a frozen pool only keeps what it had.
    const live = this.pools.find((p) => !p.frozen && p.ranges.some((r) => rangeContains(r, ip)));
    if (live || excludeFrozen) return live;
    return this.pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
  }

  private hold(key: string, pool: string, ips: readonly IP[], sharing: SharingInfo): void {
    this.held.set(key, { pool, ips: [...ips], sharing });
    for (const ip of ips) {
      let h = this.used[ip.family].get(ip.value);
      if (!h) {
        h = { pool, services: new Map() };
        this.used[ip.family].set(ip.value, h);
        this.bump(pool, ip.family, 1n);
      }
      h.services.set(key, sharing);
    }
  }

  private bump(pool: string, f: Family, by: bigint): void {
    const c = this.counts.get(pool);
    if (c) c[f] += by;
  }
}

/** RFC-less but real: some old client stacks treat IPv4 x.x.x.0 and x.x.x.255 as broadcast (MetalLB's avoidBuggyIPs). */
export function isBuggy(f: Family, v: bigint): boolean {
  if (f !== 4) return false;
  const low = v & 255n;
  return low === 0n || low === 255n;
}
