/**
 * Test support for the metrics-docs guards of the controller and the speaker: what
 * docs/metrics.md says each metric is, and what a prom-client registry actually holds.
 * @packageDocumentation
 */

export interface DocumentedMetric {
  readonly type: string;
  readonly labels: readonly string[];
}

/** The table rows (`| \`name\` | type | labels | meaning |`) between `## heading` and the next `## `. */
export function documentedMetrics(markdown: string, heading: string): Map<string, DocumentedMetric> {
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

/** What a registry holds: prom-client keeps the type and label names on each metric object. */
export function registeredMetrics(registry: { getMetricsAsArray(): readonly unknown[] }): Map<string, DocumentedMetric> {
  const out = new Map<string, DocumentedMetric>();
  for (const m of registry.getMetricsAsArray()) {
    const meta = m as { name: string; type: string; labelNames?: readonly string[] };
    out.set(meta.name, { type: meta.type, labels: [...(meta.labelNames ?? [])] });
  }
  return out;
}
