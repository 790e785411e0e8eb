import { rmSync } from 'node:fs';

/**
 * What every fault returns: its parameters, what it measured, and a list of named checks,
 * each with the number or list that decided it. The int tests assert that no check failed;
 * `npm run faults` prints the reports as one JSON object.
 */

/** CI-sized (what `npm test` runs) or the full size (`npm run faults -- --long`). */
export type Size = 'ci' | 'long';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** The measured value or the offending items, so a failure explains itself. */
  readonly detail?: unknown;
}

export interface FaultReport {
  readonly fault: string;
  readonly size: Size;
  readonly params: Readonly<Record<string, unknown>>;
  readonly measured: Readonly<Record<string, unknown>>;
  readonly checks: readonly Check[];
  readonly passed: boolean;
  readonly durationSeconds: number;
}

/** Progress lines (stderr in the runner, nothing in tests unless HERALD_FAULTS_LOG is set). */
export type Log = (line: string) => void;

export const silent: Log = () => undefined;

/** A progress logger for tests: stderr when HERALD_FAULTS_LOG is set, else nothing. */
export function testLog(fault: string): Log {
  return process.env['HERALD_FAULTS_LOG'] ? (l) => process.stderr.write(`faults ${fault}: ${l}\n`) : silent;
}

/** Collects checks as a fault runs. */
export class Checks {
  readonly list: Check[] = [];

  /** Records one check and returns `ok`, so callers can branch on it. */
  add(name: string, ok: boolean, detail?: unknown): boolean {
    this.list.push(detail === undefined ? { name, ok } : { name, ok, detail });
    return ok;
  }

  get failed(): readonly Check[] {
    return this.list.filter((c) => !c.ok);
  }
}

export function report(fault: string, size: Size, started: number, params: Record<string, unknown>, measured: Record<string, unknown>, checks: Checks): FaultReport {
  return {
    fault,
    size,
    params,
    measured,
    checks: checks.list,
    passed: checks.failed.length === 0,
    durationSeconds: round((Date.now() - started) / 1000, 1),
  };
}

/**
 * Removes a fault's log folder when every check passed; otherwise (or with
 * HERALD_FAULTS_KEEP_LOGS set) keeps it and names it in the report, for a post-mortem.
 */
export function disposeLogs(dir: string | undefined, checks: Checks, measured: Record<string, unknown>): void {
  if (dir === undefined) return;
  if (checks.failed.length > 0 || process.env['HERALD_FAULTS_KEEP_LOGS']) measured['logDir'] = dir;
  else rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Epoch milliseconds with sub-millisecond resolution: comparable with tcpdump's -tt stamps. */
export const now = (): number => performance.timeOrigin + performance.now();

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Nearest-rank percentile of `xs` (p in 0..100); null for no samples. */
export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}

export function summary(xs: readonly number[]): { n: number; p50: number | null; p90: number | null; max: number | null } {
  const r = (x: number | null): number | null => (x === null ? null : round(x, 1));
  return { n: xs.length, p50: r(percentile(xs, 50)), p90: r(percentile(xs, 90)), max: r(percentile(xs, 100)) };
}

/** A readable message from anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
