/** Prometheus text from a speaker inside its node namespace, parsed once per scrape. */
import type { Bed } from '@herald/speaker/testbed';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text format (samples only; comments and bad lines are skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `labels`. */
export function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** `label value -> sum` for the samples of `name` (e.g. drops by reason). */
export function byLabel(samples: readonly Sample[], name: string, label: string, filter: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name || !Object.entries(filter).every(([k, v]) => s.labels[k] === v)) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

const FETCH = "fetch('http://127.0.0.1:7474/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { process.stderr.write(String(e)); process.exit(1); })";

/** Every sample the speaker of lab node `host` exports now. */
export async function scrape(bed: Bed, host: string): Promise<Sample[]> {
  const r = await bed.lab.exec(host, process.execPath, ['-e', FETCH]);
  if (r.status !== 0) throw new Error(`metrics of ${host}: ${r.stderr}`);
  return parseMetrics(r.stdout);
}
