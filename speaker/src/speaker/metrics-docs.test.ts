import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { documentedMetrics, registeredMetrics } from '@herald/e2e-harness';
import { SpeakerMetrics } from './metrics.js';

/** docs/metrics.md: the public list of metric names, types and labels. */
const DOCS = new URL('../../../docs/metrics.md', import.meta.url);

const registered = (m: SpeakerMetrics): ReturnType<typeof registeredMetrics> => registeredMetrics(m.registry);

describe('docs/metrics.md', () => {
  it("lists exactly the speaker's metrics (L2, membership, BGP), with their types and labels", () => {
    const docs = documentedMetrics(readFileSync(DOCS, 'utf8'), 'Speaker');
    const actual = registered(new SpeakerMetrics({ defaultMetrics: false }));
    // On failure: update the Speaker section of docs/metrics.md (names are public interface).
    expect(Object.fromEntries([...docs].sort())).toEqual(Object.fromEntries([...actual].sort()));
  });

  it('leaves out only the default process metrics, which share the herald_speaker_ prefix', () => {
    const own = new Set(registered(new SpeakerMetrics({ defaultMetrics: false })).keys());
    const extra = [...registered(new SpeakerMetrics()).keys()].filter((n) => !own.has(n));
    expect(extra.length).toBeGreaterThan(0);
    for (const name of extra) expect(name).toMatch(/^herald_speaker_(process|nodejs)_/);
  });
});
