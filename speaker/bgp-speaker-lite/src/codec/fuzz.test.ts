import { describe, expect, it } from '@jest/globals';
import { mutationFuzz } from './index.js';

describe('mutationFuzz', () => {
  it('never makes the framer or decoder throw on 20,000 mutated messages', () => {
    const report = mutationFuzz({ count: 20_000, seed: 0x4e7a1d });
    expect(report.firstUncaught).toBeUndefined();
    expect(report.uncaught).toBe(0);
    expect(report.decoded + report.rejected + report.incomplete + report.uncaught).toBe(20_000);
    // The mutations reach every outcome, not just the header checks.
    expect(report.decoded).toBeGreaterThan(1000);
    expect(report.rejected).toBeGreaterThan(1000);
    expect(report.incomplete).toBeGreaterThan(0);
  });

  it('gives the same report for the same seed', () => {
    expect(mutationFuzz({ count: 2000, seed: 7 })).toEqual(mutationFuzz({ count: 2000, seed: 7 }));
    expect(mutationFuzz({ count: 2000, seed: 7 })).not.toEqual(mutationFuzz({ count: 2000, seed: 8 }));
  });
});
