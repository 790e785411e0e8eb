/** The client's TCP probes (the lab's pinger), judged. Pure. */
import type { Ping } from '@herald/lab';

/** The L2 failover target (ADR 0006/0007): an IP is served again within 1 s of its owner failing. */
export const FAILOVER_TARGET_MS = 1_000;

/** Longest time between consecutive answered probes (by start time), from the first answered one. */
export function longestGap(pings: readonly Ping[]): { ms: number; from: number; to: number } {
  const ok = pings.filter((p) => p.ok).map((p) => p.t).sort((a, b) => a - b);
  let best = { ms: 0, from: 0, to: 0 };
  for (let i = 1; i < ok.length; i++) {
    const a = ok[i - 1] ?? 0;
    const b = ok[i] ?? 0;
    if (b - a > best.ms) best = { ms: b - a, from: a, to: b };
  }
  return best;
}

