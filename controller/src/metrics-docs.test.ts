import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { documentedMetrics, registeredMetrics } from '@herald/e2e-harness';
import { ControllerMetrics } from './metrics.js';

/** docs/metrics.md: the public list of metric names, types and labels. */
const DOCS = new URL('../../docs/metrics.md', import.meta.url);

const registered = (m: ControllerMetrics): ReturnType<typeof registeredMetrics> => registeredMetrics(m.registry);

describe('docs/metrics.md', () => {
  it("lists exactly the controller's metrics, with their types and labels", () => {
    const docs = documentedMetrics(readFileSync(DOCS, 'utf8'), 'Controller');
    const actual = registered(new ControllerMetrics({ defaultMetrics: false }));
    // On failure: update the Controller section of docs/metrics.md (names are public interface).
    expect(Object.fromEntries([...docs].sort())).toEqual(Object.fromEntries([...actual].sort()));
  });

  it('leaves out only the default process metrics, which share the herald_controller_ prefix', () => {
    const own = new Set(registered(new ControllerMetrics({ defaultMetrics: false })).keys());
    const extra = [...registered(new ControllerMetrics()).keys()].filter((n) => !own.has(n));
    expect(extra.length).toBeGreaterThan(0);
    for (const name of extra) expect(name).toMatch(/^herald_controller_(process|nodejs)_/);
  });
});
