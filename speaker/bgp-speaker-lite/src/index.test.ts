import { describe, expect, it } from '@jest/globals';
import { PACKAGE } from './index.js';

describe('bgp-speaker-lite', () => {
  it('names itself', () => {
    expect(PACKAGE).toBe('bgp-speaker-lite');
  });
});
