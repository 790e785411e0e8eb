import { describe, expect, it } from '@jest/globals';
import { runControllerChurn } from './controller-churn.js';
import { testLog } from './report.js';

describe('fault 1: the controller killed every 2 s and the API server restarted while Services are created', () => {
  it('leaves every Service exactly its IPs, never shares an IP illegally, and never changes an IP once set', async () => {
    const r = await runControllerChurn('ci', { log: testLog('controller-churn') });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.passed).toBe(true);
  });
});
