import { describe, expect, it } from '@jest/globals';
import { reconcileProgress } from './cold-start.js';

describe('cold-start progress from the controller metrics', () => {
  it('sums Service reconciles over results and reads the queue depth', () => {
    const text = [
      '# HELP herald_reconcile_duration_seconds ...',
      'herald_reconcile_duration_seconds_count{kind="svc",result="ok"} 9990',
      'herald_reconcile_duration_seconds_count{kind="svc",result="retry"} 10',
      'herald_reconcile_duration_seconds_count{kind="config",result="ok"} 3',
      'herald_workqueue_depth 0',
    ].join('\n');
    expect(reconcileProgress(text)).toEqual({ reconciled: 10_000, depth: 0 });
    expect(reconcileProgress('')).toEqual({ reconciled: 0, depth: undefined });
  });
});
