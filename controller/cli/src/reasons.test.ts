import { describe, expect, it } from '@jest/globals';
import { NODE_REASONS } from '@herald/speaker';
import { BGP_REASON_TEXT, IP_REASON_TEXT, NODE_REASON_TEXT, OWNER_REASON_TEXT, bgpReasonLine } from './reasons.js';

describe('reason text', () => {
  it('explains every node reason the L2 planner can give, in its order', () => {
    expect(Object.keys(NODE_REASON_TEXT)).toEqual([...NODE_REASONS]);
  });

  it('is one sentence each, without a trailing period, for every code', () => {
    for (const map of [NODE_REASON_TEXT, IP_REASON_TEXT, OWNER_REASON_TEXT, BGP_REASON_TEXT] as Record<string, string>[]) {
      for (const text of Object.values(map)) {
        expect(text).toMatch(/^[a-z][^\n]*[^.]$/);
      }
    }
  });

  it('names the peers of an announced IP, and the code and sentence otherwise', () => {
    expect(bgpReasonLine('announced', ['r1', 'r2'])).toBe('announced to r1, r2');
    expect(bgpReasonLine('noPeer', [])).toBe("noPeer: no BGPPeer that selects it is selected by an advertisement of the pool for the IP's family");
  });
});
