import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseForwarderArgs, startForwarder } from './forward.js';
import { probeTcp } from './reach.js';

const listen = (srv: Server): Promise<number> => new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
const close = (srv: Server): Promise<void> => new Promise((r) => srv.close(() => r()));

describe('startForwarder', () => {
  it('carries a TCP conversation through a Unix socket and back, half-close included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-fwd-'));
    // An upper-casing echo server that answers once the client has finished sending.
    const echo = createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (b: Buffer) => (got += b.toString()));
      s.on('end', () => s.end(got.toUpperCase()));
    });
    const echoPort = await listen(echo);
    const sock = join(dir, 'f.sock');
    const toTcp = await startForwarder({ kind: 'unix', path: sock }, { kind: 'tcp', host: '127.0.0.1', port: echoPort });
    const toUnix = await startForwarder({ kind: 'tcp', host: '127.0.0.1', port: 0 }, { kind: 'unix', path: sock });
    try {
      const port = (toUnix.address() as AddressInfo).port;
      const reply = await new Promise<string>((resolve, reject) => {
        const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
        let got = '';
        c.on('data', (b: Buffer) => (got += b.toString()));
        c.on('end', () => resolve(got));
        c.on('error', reject);
        c.end('hello lab');
      });
      expect(reply).toBe('HELLO LAB');
    } finally {
      await Promise.all([close(toUnix), close(toTcp), close(echo)]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses both modes and rejects anything else', () => {
    expect(parseForwarderArgs(['unix-to-tcp', '/s', '127.0.0.1', '6443'])).toEqual({ listen: { kind: 'unix', path: '/s' }, target: { kind: 'tcp', host: '127.0.0.1', port: 6443 } });
    expect(parseForwarderArgs(['tcp-to-unix', '127.0.0.1', '6443', '/s'])).toEqual({ listen: { kind: 'tcp', host: '127.0.0.1', port: 6443 }, target: { kind: 'unix', path: '/s' } });
    expect(parseForwarderArgs(['tcp-to-unix', '127.0.0.1', '70000', '/s'])).toHaveProperty('error');
    expect(parseForwarderArgs(['sideways', 'a', 'b', 'c'])).toHaveProperty('error');
    expect(parseForwarderArgs(['unix-to-tcp', '/s', '127.0.0.1'])).toHaveProperty('error');
  });
});

describe('probeTcp', () => {
  it('counts a refused connection as reachable: the target kernel answered', async () => {
    const srv = createServer();
    const port = await listen(srv);
    await close(srv);
    await expect(probeTcp('127.0.0.1', port, 1_000)).resolves.toMatchObject({ reachable: true, code: 'ECONNREFUSED' });
  });

  it('counts an accepted connection as reachable', async () => {
    const srv = createServer((s) => s.destroy());
    const port = await listen(srv);
    try {
      await expect(probeTcp('127.0.0.1', port, 1_000)).resolves.toMatchObject({ reachable: true, code: 'CONNECTED' });
    } finally {
      await close(srv);
    }
  });
});
