import { describe, expect, it } from '@jest/globals';
import { retryAfterMs } from './api.js';

describe('retryAfterMs', () => {
  it('follows Retry-After within 0.1..2 s, and waits 0.5 s without one', () => {
    expect(retryAfterMs({ code: 429, headers: { 'retry-after': '1' } })).toBe(1_000);
    expect(retryAfterMs({ code: 429, headers: { 'retry-after': '60' } })).toBe(2_000);
    expect(retryAfterMs({ code: 429, headers: { 'retry-after': '0' } })).toBe(100);
    expect(retryAfterMs({ code: 429, headers: { 'retry-after': 'soon' } })).toBe(500);
    expect(retryAfterMs({ code: 429, headers: {} })).toBe(500);
    expect(retryAfterMs(new Error('x'))).toBe(500);
  });
});
