import { describe, expect, it } from '@jest/globals';
import { PLAN, extractJson, outcomeJson, parseRunFlags, tailLines, timestampName } from './report-run.js';

const KNOWN = ['controller', 'l2-failover', 'bgp', 'cold-start', 'speaker-load', 'arp-flood'];

describe('the run-everything flags', () => {
  it('reads --only, --quick and --out', () => {
    expect(parseRunFlags([], KNOWN)).toEqual({ only: undefined, quick: false, out: undefined });
    expect(parseRunFlags(['--only', 'bgp, controller', '--quick', '--out', '/tmp/r'], KNOWN)).toEqual({ only: ['bgp', 'controller'], quick: true, out: '/tmp/r' });
  });

  it('refuses unknown flags, missing values and unknown benchmarks', () => {
    expect(() => parseRunFlags(['--fast'], KNOWN)).toThrow('unknown flag --fast');
    expect(() => parseRunFlags(['--only'], KNOWN)).toThrow('--only takes a value');
    expect(() => parseRunFlags(['--only', '--quick'], KNOWN)).toThrow('--only takes a value');
    expect(() => parseRunFlags(['--only', 'bgp,nope'], KNOWN)).toThrow('no benchmark named nope');
  });

  it('plans every registered benchmark, with quick sizes', () => {
    expect(PLAN.map((p) => p.name).sort()).toEqual([...KNOWN].sort());
    for (const p of PLAN) expect(p.quick.length).toBeGreaterThan(0);
  });
});

describe('saving a benchmark outcome', () => {
  it('names the run folder by its start time without colons', () => {
    expect(timestampName(new Date('2025-01-31T12:34:56.789Z'))).toBe('2025-01-31T12-34-56Z');
  });

  it('finds the JSON object on stdout, also after stray lines', () => {
    expect(extractJson('{\n  "bench": "x",\n  "n": 1\n}\n')).toEqual({ bench: 'x', n: 1 });
    expect(extractJson('some line\n{\n  "bench": "x"\n}\n')).toEqual({ bench: 'x' });
    expect(extractJson('no json')).toBeUndefined();
    expect(extractJson('[1, 2]')).toBeUndefined();
  });

  it('keeps the last non-empty lines of stderr', () => {
    expect(tailLines('a\n\nb\nc\n', 2)).toEqual(['b', 'c']);
  });

  it('saves a bench that printed its JSON as is, and anything else as a failure record', () => {
    const base = { signal: null, stderr: 'line 1\nError: boom\n', seconds: 5, timedOut: false };
    expect(outcomeJson('bgp', { ...base, code: 0, stdout: '{"bench":"bgp"}' }, 10)).toEqual({ ok: true, json: { bench: 'bgp' } });
    expect(outcomeJson('bgp', { ...base, code: 1, stdout: '' }, 10)).toEqual({ ok: false, json: { bench: 'bgp', failed: true, exitCode: 1, signal: null, stderrTail: ['line 1', 'Error: boom'] } });
    expect(outcomeJson('bgp', { ...base, code: 0, stdout: 'nothing' }, 10).json).toMatchObject({ failed: true, reason: 'exit code 0 but no JSON object on stdout' });
    expect(outcomeJson('bgp', { ...base, code: null, signal: 'SIGTERM', stdout: '', timedOut: true }, 10).json).toMatchObject({ failed: true, signal: 'SIGTERM', reason: 'over its 10 min limit (stopped)' });
  });
});
