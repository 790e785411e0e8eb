import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { dnsLabel, FlagError, hostPort, logLevel, parseFlags } from './flags.js';

const specs = {
  namespace: { name: 'namespace', env: 'X_NAMESPACE', schema: dnsLabel, help: '' },
  metricsAddr: { name: 'metrics-addr', env: 'X_METRICS', schema: hostPort.prefault('0.0.0.0:7472'), help: '' },
  leaderElect: { name: 'leader-elect', env: 'X_LEADER', boolean: true, schema: z.boolean().default(false), help: '' },
  logLevel: { name: 'log-level', env: 'X_LOG', schema: logLevel.default('info'), help: '' },
};

const err = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseFlags(specs, argv, env);
  } catch (e) {
    if (e instanceof FlagError) return e.message;
    throw e;
  }
  throw new Error('no error');
};

describe('flags', () => {
  it('reads flags in both spellings, with defaults', () => {
    const v = parseFlags(specs, ['--namespace', 'herald-system', '--leader-elect', '--metrics-addr=[::1]:9000'], {});
    expect(v).toEqual({ namespace: 'herald-system', leaderElect: true, metricsAddr: { host: '::1', port: 9000 }, logLevel: 'info' });
  });

  it('falls back to the environment, and flags win', () => {
    expect(parseFlags(specs, [], { X_NAMESPACE: 'a', X_LEADER: 'true' })).toMatchObject({ namespace: 'a', leaderElect: true, metricsAddr: { host: '0.0.0.0', port: 7472 } });
    expect(parseFlags(specs, ['--namespace=b'], { X_NAMESPACE: 'a' })).toMatchObject({ namespace: 'b' });
  });

  it.each([
    [[], {}, '--namespace (or X_NAMESPACE): is required'],
    [['--namespace', 'Bad_NS'], {}, '--namespace: must be a DNS-1123 label'],
    [['--namespace', 'a', '--nope'], {}, 'unknown flag --nope'],
    [['--namespace'], {}, 'flag --namespace needs a value'],
    [['--namespace', 'a', '--metrics-addr', 'localhost'], {}, 'expected HOST:PORT'],
    [['--namespace', 'a', '--metrics-addr', ':70000'], {}, 'port must be 0-65535'],
    [['--namespace', 'a'], { X_LOG: 'loud' }, 'X_LOG: expected one of trace'],
    [['--namespace', 'a'], { X_LEADER: 'yes' }, 'must be true or false'],
    [['stray'], {}, 'unexpected argument "stray"'],
  ])('refuses %j %j with a one-line reason', (argv, env, want) => {
    const m = err(argv, env);
    expect(m).toContain(want);
    expect(m).not.toContain('\n');
  });
});
