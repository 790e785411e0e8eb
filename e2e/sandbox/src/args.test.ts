import { describe, expect, it } from '@jest/globals';
import { DEFAULT_DIR, parseArgs } from './args.js';

describe('sandbox command line', () => {
  it('brings the sandbox up by default, in /tmp/herald-sandbox with prefix sandbox', () => {
    expect(parseArgs([])).toEqual({ ok: true, args: { command: 'up', json: false, dir: DEFAULT_DIR, prefix: 'sandbox' } });
  });

  it('takes down, --json, --dir (relative to the working folder) and --prefix, with or without =', () => {
    expect(parseArgs(['down', '--dir', 'box'], '/work')).toEqual({ ok: true, args: { command: 'down', json: false, dir: '/work/box', prefix: 'sandbox' } });
    expect(parseArgs(['up', '--json', '--dir=/tmp/x', '--prefix=sbx1'])).toEqual({ ok: true, args: { command: 'up', json: true, dir: '/tmp/x', prefix: 'sbx1' } });
  });

  it.each([
    [['sideways'], /command/],
    [['up', 'down'], /unknown argument "down"/],
    [['--dir'], /--dir needs a value/],
    [['--verbose'], /unknown argument "--verbose"/],
    [['--json=yes'], /unknown argument/],
    [['--prefix', 'Sandbox'], /prefix: want/],
    [['--prefix', 'a-much-too-long-prefix'], /prefix: want/],
  ])('refuses %j', (argv, error) => {
    const r = parseArgs(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});
