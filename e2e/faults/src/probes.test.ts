import { describe, expect, it } from '@jest/globals';
import type { Ping } from '@herald/lab';
import { longestGap } from './probes.js';

const ping = (seq: number, t: number, ok: boolean): Ping => ({ seq, t, ok, node: ok ? 'node-1' : null, ms: ok ? 1 : 100, code: ok ? 'OK' : 'TIMEOUT' });

describe('longestGap', () => {
  it('is the longest time between the starts of two consecutive answered probes', () => {
    const pings = [ping(0, 0, true), ping(1, 10, true), ping(2, 20, false), ping(3, 30, false), ping(4, 40, true), ping(5, 50, true)];
    expect(longestGap(pings)).toEqual({ ms: 30, from: 10, to: 40 });
  });
  it('ignores failures before the first answer and is 0 without two answers', () => {
    expect(longestGap([ping(0, 0, false), ping(1, 500, true)]).ms).toBe(0);
  });
});
