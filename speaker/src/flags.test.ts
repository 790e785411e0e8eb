import { describe, expect, it } from '@jest/globals';
import { FlagError } from '@herald/shared/cli';
import { parseSpeakerFlags } from './flags.js';

describe('speaker flags', () => {
  it('reads flags, falls back to the environment, and applies defaults', () => {
    const f = parseSpeakerFlags(['--namespace', 'herald-system', '--bind-addr', '2001:DB8::0:11'], { NODE_NAME: 'node-1.example' });
    expect(f).toMatchObject({ namespace: 'herald-system', nodeName: 'node-1.example', bindAddr: '2001:db8::11', memberlistPort: 7946, memberlistSecret: 'herald-memberlist', logLevel: 'info' });
    expect(f.metricsAddr).toEqual({ host: '0.0.0.0', port: 7474 });
  });

  it.each([
    [['--namespace', 'ns'], {}, /--node-name \(or NODE_NAME\): is required/],
    [['--node-name', 'n'], {}, /--namespace/],
    [['--namespace', 'ns', '--node-name', 'N_1'], {}, /DNS-1123 subdomain/],
    [['--namespace', 'ns', '--node-name', 'n', '--bind-addr', '0.0.0.0'], {}, /not a wildcard/],
    [['--namespace', 'ns', '--node-name', 'n', '--bind-addr', 'node-1'], {}, /not an IP address/],
    [['--namespace', 'ns', '--node-name', 'n', '--memberlist-port', '70000'], {}, /1\.\.65535/],
    [['--namespace', 'ns', '--node-name', 'n'], { HERALD_MEMBERLIST_PORT: 'x' }, /HERALD_MEMBERLIST_PORT/],
  ])('refuses %j with one line', (argv, env, message) => {
    expect(() => parseSpeakerFlags(argv, env)).toThrow(FlagError);
    expect(() => parseSpeakerFlags(argv, env)).toThrow(message);
  });
});
