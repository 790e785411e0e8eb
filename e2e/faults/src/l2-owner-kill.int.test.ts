import { describe, expect, it } from '@jest/globals';
import { runL2OwnerKill } from './l2-owner-kill.js';
import { FAILOVER_TARGET_MS } from './probes.js';
import { testLog } from './report.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/faults: skipping the L2 owner-kill fault: it needs root (network namespaces)\n');
const describeRoot = ROOT ? describe : describe.skip;

describeRoot('fault 2: the owner speaker SIGKILLed in a loop while the client probes the IP every 10 ms', () => {
  it(`fails over every time within ${FAILOVER_TARGET_MS} ms, and two nodes never answer ARP for the IP together for that long`, async () => {
    const r = await runL2OwnerKill('ci', { log: testLog('l2-owner-kill') });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.passed).toBe(true);
  });
});
