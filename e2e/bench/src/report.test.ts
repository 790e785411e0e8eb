import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { anchor, meetsTarget, renderReport, targetNumber, type BenchEntry } from './report.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./__fixtures__/report/${name}.json`, import.meta.url), 'utf8'));
const NAMES = ['controller', 'cold-start', 'l2-failover', 'speaker-load', 'arp-flood', 'bgp'];
const entries: BenchEntry[] = NAMES.map((name, i) => ({ name, json: fixture(name), seconds: 60 + i, args: ['--x', String(i)] }));

describe('meetsTarget', () => {
  it('reads targets as the benches write them', () => {
    expect(meetsTarget(0.85, '>= 0.8')).toBe(true);
    expect(meetsTarget(0.75, '>= 0.8')).toBe(false);
    expect(meetsTarget(99, '< 100')).toBe(true);
    expect(meetsTarget(100, '< 100')).toBe(false);
    expect(meetsTarget(15, '<= 15 with 0 changes')).toBe(true);
    expect(meetsTarget(1000, 1000)).toBe(true);
    expect(meetsTarget(1001, 1000)).toBe(false);
    expect(meetsTarget(0, '= 0')).toBe(true);
    expect(meetsTarget(1_000_000, '>= 1,000,000')).toBe(true);
    expect(meetsTarget(null, 10)).toBeUndefined();
    expect(meetsTarget(5, 'fast')).toBeUndefined();
    expect(targetNumber('<= 15 with 0 changes')).toBe(15);
  });
});

describe('renderReport', () => {
  const r = renderReport(entries, { started: '2025-01-31T12:00:00.000Z', mode: 'default' });

  it('has one section per benchmark, in the given order, with a summary table linking to them', () => {
    const heads = r.markdown.split('\n').filter((l) => l.startsWith('## '));
    expect(heads).toEqual([
      '## controller: IP allocation',
      '## cold-start: controller start with every Service allocated',
      '## l2-failover: L2 failover and announcement',
      '## speaker-load: speakers with 1,000 announced IPs',
      '## arp-flood: ARP answers under a flood',
      '## bgp: BGP convergence',
    ]);
    expect(r.markdown).toContain('| [controller](#controller-ip-allocation) | ok | 3/4 | 60 s | `--x 0` |');
    expect(r.markdown).toContain('Run started 2025-01-31T12:00:00.000Z; mode **default**; 2 CPUs');
  });

  it('names the same-run comparison of each headline figure', () => {
    expect(r.markdown).toContain('API server ceiling measured in the same run: 820 Services/s; ratio 0.77');
    expect(r.markdown).toContain('gobgpd in the same run: 420 ms; ratio 0.74');
    expect(r.markdown).toContain('bare LIST of the same 2,001 Services in the same run: 0.4 s');
    expect(r.markdown).toContain("the node's kernel answering for its own address in the same run: 0.14 ms");
    expect(r.markdown).toContain('the same speakers with 0 Services in the same run: 262 MiB');
  });

  it('judges each figure against its target', () => {
    const row = (start: string): string => r.markdown.split('\n').find((l) => l.startsWith(`| ${start}`)) ?? '';
    expect(row('Allocation throughput')).toMatch(/\| ratio >= 0.8 \| \*\*no\*\* \|$/);
    expect(row('Restart with every IP allocated')).toMatch(/\| 4.2 s, 0 IP changes \| .* \| <= 15 s with 0 changes \| yes \|$/);
    expect(row('Link cut failover')).toMatch(/1 timed out.*\*\*no\*\* \|$/);
    expect(row('Learn 10,000 prefixes: BIRD')).toMatch(/\*\*no\*\* \|$/);
    expect(row('Learn 10,000 prefixes: GoBGP')).toContain('gobgpd in the same run: –');
    expect(row('Spawn → fully reconciled')).toMatch(/yes \|$/);
  });

  it('writes one SVG per figure, referenced from the Markdown with a caption naming the comparison', () => {
    const names = r.files.map((f) => f.name);
    expect(names).toEqual(['controller-throughput.svg', 'cold-start.svg', 'l2-failover-distribution.svg', 'l2-announce-distribution.svg', 'speaker-load-rss.svg', 'speaker-load-cpu.svg', 'arp-flood-latency.svg', 'bgp-learn.svg']);
    for (const n of names) expect(r.markdown).toContain(`](${n})`);
    for (const f of r.files) {
      expect(f.content.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(f.content.length).toBeLessThan(20_000);
    }
    expect(r.markdown).toContain("*Time for each router to learn all 10,000 prefixes from Herald vs from gobgpd in the same run");
    // The failover chart uses the per-trial samples l2-failover prints.
    const dist = r.files.find((f) => f.name === 'l2-failover-distribution.svg')?.content ?? '';
    expect(dist.match(/<circle /g)?.length).toBe(9);
  });

  it('records a failed benchmark with its stderr tail, and still renders the others', () => {
    const failed = renderReport([
      { name: 'bgp', json: { bench: 'bgp', failed: true, exitCode: 1, signal: null, stderrTail: ['bench bgp: starting', 'Error: gobgpd not found'] }, seconds: 3 },
      { name: 'controller', json: fixture('controller') },
    ]);
    expect(failed.markdown).toContain('| [bgp](#bgp-failed) | **failed** |');
    expect(failed.markdown).toContain('## bgp: FAILED\n\nexit code 1 after 3 s. Last lines of its stderr:\n\n```text\nbench bgp: starting\nError: gobgpd not found\n```');
    expect(failed.markdown).toContain('## controller: IP allocation');
    expect(failed.files.map((f) => f.name)).toEqual(['controller-throughput.svg']);
  });

  it('reports JSON it cannot read instead of throwing, and shows unknown benches generically', () => {
    const odd = renderReport([
      { name: 'controller', json: { allocate: 'fast' } },
      { name: 'new-bench', json: { bench: 'new-bench', widgets: 12, label: 'x' } },
    ]);
    expect(odd.markdown).toContain('## controller: unreadable JSON');
    expect(odd.markdown).toContain('| widgets | 12 | – | – | – |');
  });

  it('marks a quick run as a smoke test', () => {
    expect(renderReport([{ name: 'controller', json: fixture('controller') }], { mode: 'quick' }).markdown).toContain('mode **quick** (small sizes: a smoke test, not figures to quote)');
  });

  it('makes GitHub heading anchors', () => {
    expect(anchor('controller: IP allocation')).toBe('controller-ip-allocation');
    expect(anchor('bgp: FAILED')).toBe('bgp-failed');
  });
});
