import { describe, expect, it } from '@jest/globals';
import { DEFAULT_DIR, parseArgs } from './args.js';

describe('sandbox command line', () => {
  it('brings the sandbox up by default, in /tmp/herald-sandbox with cluster prefix hsb', () => {
    expect(parseArgs([])).toEqual({ ok: true, args: { command: 'up', json: false, dir: DEFAULT_DIR, prefix: 'hsb' } });
  });

  it('takes down, --json, --dir (relative to the working folder) and --prefix, with or without =', () => {
    expect(parseArgs(['down', '--dir', 'box'], '/work')).toEqual({ ok: true, args: { command: 'down', json: false, dir: '/work/box', prefix: 'hsb' } });
    expect(parseArgs(['up', '--json', '--dir=/tmp/x', '--prefix=sbx1'])).toEqual({ ok: true, args: { command: 'up', json: true, dir: '/tmp/x', prefix: 'sbx1' } });
  });

  it.each([
    [['sideways'], /command/],
    [['up', 'down'], /unknown argument "down"/],
    [['--dir'], /--dir needs a value/],
    [['--verbose'], /unknown argument "--verbose"/],
    [['--json=yes'], /unknown argument/],
    [['--prefix', 'Sandbox'], /prefix: want/],
    // The cluster's interface names (`<prefix>-node-3`) must fit in 15 bytes.
    [['--prefix', 'sandbox'], /prefix: want/],
    [['--dir', `/tmp/${'d'.repeat(60)}`], /dir: at most 52/],
  ])('refuses %j', (argv, error) => {
    const r = parseArgs(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});
