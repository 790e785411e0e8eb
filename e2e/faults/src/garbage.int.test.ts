import { describe, expect, it } from '@jest/globals';
import { runGarbage } from './garbage.js';
import { testLog } from './report.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/faults: skipping the garbage fault: it needs root (network namespaces, AF_PACKET)\n');
const describeRoot = ROOT ? describe : describe.skip;

describeRoot('fault 4: garbage on the membership port, on BGP and as malformed ARP/NDP frames', () => {
  it('keeps every speaker announcing and its sessions up, drops and counts every bad input, and answers bad BGP with NOTIFICATIONs', async () => {
    const r = await runGarbage('ci', { log: testLog('garbage') });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.passed).toBe(true);
  });
});
