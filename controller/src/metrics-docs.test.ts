import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ControllerMetrics } from './metrics.js';

/** docs/metrics.md: the public list of metric names, types and labels. */
const DOCS = new URL('../../docs/metrics.md', import.meta.url);

interface DocumentedMetric {
  readonly type: string;
  readonly labels: readonly string[];
}

/** The table rows (`| \`name\` | type | labels | meaning |`) between `## heading` and the next `## `. */
function documented(markdown: string, heading: string): Map<string, DocumentedMetric> {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`docs/metrics.md has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const out = new Map<string, DocumentedMetric>();
  for (const line of markdown.slice(start, end === -1 ? undefined : end).split('\n')) {
    const m = /^\| `(herald_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|/.exec(line);
    if (!m) continue;
    const labels = [...(m[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((l) => l[1] ?? '');
    out.set(m[1] ?? '', { type: m[2] ?? '', labels });
  }
  return out;
}

/** What the registry holds: prom-client keeps the type and label names on each metric object. */
function registered(metrics: ControllerMetrics): Map<string, DocumentedMetric> {
  const out = new Map<string, DocumentedMetric>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const meta = m as unknown as { name: string; type: string; labelNames?: readonly string[] };
    out.set(meta.name, { type: meta.type, labels: [...(meta.labelNames ?? [])] });
  }
  return out;
}

describe('docs/metrics.md', () => {
  it("lists exactly the controller's metrics, with their types and labels", () => {
    const docs = documented(readFileSync(DOCS, 'utf8'), 'Controller');
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
