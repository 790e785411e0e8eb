/**
 * Go duration strings (`metav1.Duration`, e.g. `90s`, `1m30s`), as MetalLB's BGPPeer timers
 * use them. CEL evaluates them with `duration(...)`, which is Go's `time.ParseDuration`.
 * @packageDocumentation
 */

/**
 * What the CRD accepts: a non-negative Go duration with explicit units, or `0`.
 * Narrower than `time.ParseDuration` (no sign, no `.5s`, no `1.s`) so that every accepted
 * string parses identically in Go, CEL and {@link parseDuration}.
 */
export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$';

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu; Go accepts both
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Parses a duration matching {@link DURATION_PATTERN} to nanoseconds.
 * Fractions are truncated at nanosecond precision, as Go does.
 * @returns nanoseconds, or `undefined` when the text does not match the pattern.
 */
export function parseDuration(text: string): bigint | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  if (text === '0') return 0n;
  let total = 0n;
  for (const m of text.matchAll(/([0-9]+)(?:\.([0-9]+))?(ns|us|µs|μs|ms|s|m|h)/gu)) {
    const unit = UNIT_NANOS[m[3] ?? ''];
    if (unit === undefined) return undefined;
    total += BigInt(m[1] ?? '0') * unit;
    const fraction = m[2];
    if (fraction !== undefined) {
      total += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    }
  }
  return total;
}

/** `duration(text)` in CEL compared with a number of seconds; `undefined` if unparsable. */
export function durationSeconds(text: string): number | undefined {
  const nanos = parseDuration(text);
  return nanos === undefined ? undefined : Number(nanos) / 1e9;
}

/** CEL `duration(text).getMilliseconds() % 1000 == 0`: a whole number of seconds. */
export function isWholeSeconds(text: string): boolean {
  const nanos = parseDuration(text);
  // getMilliseconds() truncates below the millisecond, so compare at that precision.
  return nanos === undefined || (nanos / 1_000_000n) % 1000n === 0n;
}

/** CEL `duration(text).getSeconds()`: whole seconds, truncated. */
export function durationWholeSeconds(text: string): bigint | undefined {
  const nanos = parseDuration(text);
  return nanos === undefined ? undefined : nanos / NANOS_PER_SECOND;
}
