import { describe, expect, it } from '@jest/globals';
import { runRouterRestart } from './router-restart.js';
import { testLog } from './report.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/faults: skipping the router-restart fault: it needs root (network namespaces)\n');
const describeRoot = ROOT ? describe : describe.skip;

describeRoot('fault 3: an upstream router restarted again and again', () => {
  it('gets every session re-established and every route back after each restart', async () => {
    const r = await runRouterRestart('ci', { log: testLog('router-restart') });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.passed).toBe(true);
  });
});
