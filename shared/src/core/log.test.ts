import { describe, expect, it } from '@jest/globals';
import type { DestinationStream } from 'pino';
import { createLogger, memoryLogger, silentLogger } from './log.js';

describe('logging', () => {
  it('writes one JSON object per line with name, level word and ISO time', () => {
    const out: string[] = [];
    const destination: DestinationStream = { write: (s: string) => void out.push(s) };
    const log = createLogger({ level: 'info', name: 'herald-controller', destination });
    log.child({ component: 'allocator' }).info({ event: 'assigned', ip: '192.0.2.1' }, 'assigned an IP');
    log.debug('not written at info');
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0] ?? '') as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', name: 'herald-controller', component: 'allocator', event: 'assigned', ip: '192.0.2.1', msg: 'assigned an IP' });
    expect(line['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line).not.toHaveProperty('pid');
  });

  it('never writes secrets: passwords, Secret data, authorization headers', () => {
    const { log, lines } = memoryLogger();
    log.info({
      password: 'hunter2',
      peer: { address: '192.0.2.1', password: 'md5-secret' },
      secret: { metadata: { name: 's' }, data: { key: 'c2VjcmV0' }, stringData: { key: 'plaintext-pw' } },
      request: { headers: { authorization: 'Bearer abc', accept: 'json' } },
      bgp: { peer: { password: 'nested' } },
      token: 'eyJ',
    });
    const text = JSON.stringify(lines());
    for (const secret of ['hunter2', 'md5-secret', 'c2VjcmV0', 'plaintext-pw', 'Bearer abc', 'nested', 'eyJ']) {
      expect(text).not.toContain(secret);
    }
    const [line] = lines();
    expect(line).toMatchObject({ peer: { address: '192.0.2.1', password: '[REDACTED]' }, request: { headers: { accept: 'json' } } });
  });

  it('serializes errors under err with message and stack', () => {
    const { log, lines } = memoryLogger();
    log.warn({ err: new Error('boom') }, 'failed');
    expect(lines()[0]?.['err']).toMatchObject({ type: 'Error', message: 'boom' });
  });

  it('has a silent logger for tests', () => {
    const log = silentLogger();
    expect(log.isLevelEnabled('fatal')).toBe(false);
    log.error('nothing');
  });
});
