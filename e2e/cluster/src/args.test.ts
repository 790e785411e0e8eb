import { describe, expect, it } from '@jest/globals';
import { parseArgs, upOptions } from './args.js';
import { ClusterError } from './errors.js';

describe('cluster CLI arguments', () => {
  it('turns up flags into options', () => {
    const p = parseArgs(['up', '--nodes', '5', '--dir=/tmp/c', '--proxy-mode', 'iptables', '--no-build', '--no-ipv6', '--keep-on-failure']);
    expect(upOptions(p)).toEqual({ nodes: 5, dir: '/tmp/c', proxyMode: 'iptables', build: false, ipv6: false, keepOnFailure: true });
  });

  it('passes kubectl arguments through, flags included, after an optional --dir', () => {
    expect(parseArgs(['kubectl', 'get', 'nodes', '-o', 'wide']).rest).toEqual(['get', 'nodes', '-o', 'wide']);
    const p = parseArgs(['kubectl', '--dir', '/tmp/c', '--', 'get', 'pods', '-A']);
    expect([p.flags.get('--dir'), p.rest]).toEqual(['/tmp/c', ['get', 'pods', '-A']]);
    expect(parseArgs(['kubectl', '--json']).rest).toEqual(['--json']);
  });

  it('takes crictl node name first, then its arguments', () => {
    const p = parseArgs(['crictl', 'node-2', 'ps', '-a']);
    expect([p.positional, p.rest]).toEqual([['node-2'], ['ps', '-a']]);
  });

  it('takes exec commands after --', () => {
    const p = parseArgs(['exec', 'client', '--', 'ip', '-br', 'addr']);
    expect([p.positional, p.rest]).toEqual([['client'], ['ip', '-br', 'addr']]);
  });

  it('refuses unknown flags, missing values and bad numbers as usage errors', () => {
    expect(() => parseArgs(['up', '--nodez', '3'])).toThrow(ClusterError);
    expect(() => parseArgs(['up', '--nodes'])).toThrow(/needs a value/);
    expect(() => upOptions(parseArgs(['up', '--nodes', 'three']))).toThrow(/want a number/);
    expect(() => parseArgs([])).toThrow(/usage/);
  });
});
