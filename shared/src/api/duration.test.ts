import { describe, expect, it } from '@jest/globals';
import { durationWholeSeconds, isWholeSeconds, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0n],
    ['90s', 90_000_000_000n],
    ['1m30s', 90_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['1500ms', 1_500_000_000n],
    ['3µs', 3_000n],
    ['3μs', 3_000n],
  ])('reads %s as Go does', (text, nanos) => {
    expect(parseDuration(text)).toBe(nanos);
  });

  it.each(['90', '-1s', '.5s', '1.s', '1d', '', 's'])('refuses %s', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('answers like CEL getSeconds() and getMilliseconds() % 1000', () => {
    expect(durationWholeSeconds('1500ms')).toBe(1n);
    expect(isWholeSeconds('1500ms')).toBe(false);
    expect(isWholeSeconds('2m')).toBe(true);
    // getMilliseconds() truncates, so sub-millisecond noise passes in CEL too
    expect(isWholeSeconds('1s500us')).toBe(true);
  });
});
