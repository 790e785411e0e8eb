import { rangeSize, type Family, type IPRange } from '@herald/shared/ip';
import type { PoolModel } from './types.js';

/** Addresses <= n (n >= -1) whose last octet is 0, plus those whose last octet is 255. */
function buggyUpTo(n: bigint): bigint {
  if (n < 0n) return 0n;
  return n / 256n + 1n + (n + 1n) / 256n;
}

/** Ranges of one family merged, so overlapping entries in one pool count once. */
function merged(ranges: readonly IPRange[], f: Family): IPRange[] {
  const sorted = ranges.filter((r) => r.family === f).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: IPRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.last + 1n) out[out.length - 1] = { ...last, last: r.last > last.last ? r.last : last.last };
    else out.push(r);
  }
  return out;
}

/** Exact number of usable addresses per family, whatever the pool's size. */
export function poolStats(p: PoolModel): Record<Family, bigint> {
  const total = (f: Family): bigint =>
    merged(p.ranges, f).reduce((sum, r) => {
      const buggy = p.avoidBuggyIPs && f === 4 ? buggyUpTo(r.last) - buggyUpTo(r.first - 1n) : 0n;
      return sum + rangeSize(r) - buggy;
    }, 0n);
  return { 4: total(4), 6: total(6) };
}
