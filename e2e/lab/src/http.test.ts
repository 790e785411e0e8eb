import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { httpGet, httpUrl, listeningPort, NODE_HEADER, parseResponderArgs, startResponder } from './http.js';

// Unit tier: loopback only.
describe('the responder and httpGet on loopback', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = await startResponder(0, 'node-7', '127.0.0.1');
    port = listeningPort(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('answers any request with 200, its name as the body and in x-herald-node', async () => {
    await expect(httpGet('127.0.0.1', port, 2_000)).resolves.toMatchObject({ ok: true, status: 200, body: 'node-7\n', code: 'OK' });
    const res = await fetch(`http://127.0.0.1:${port}/some/path?x=1`, { method: 'POST', body: 'ignored' });
    expect(res.status).toBe(200);
    expect(res.headers.get(NODE_HEADER)).toBe('node-7');
    expect(await res.text()).toBe('node-7\n');
  });

  it('reports a refused connection as ECONNREFUSED without throwing', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const free = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(httpGet('127.0.0.1', free, 2_000)).resolves.toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('reports a server that never answers as TIMEOUT within about timeoutMs', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await httpGet('127.0.0.1', (silent.address() as { port: number }).port, 200);
      expect(r).toMatchObject({ ok: false, code: 'TIMEOUT' });
      expect(r.status).toBeUndefined();
      expect(r.ms).toBeGreaterThanOrEqual(190);
      expect(r.ms).toBeLessThan(2_000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe('httpUrl', () => {
  it('brackets IPv6 literals only', () => {
    expect(httpUrl('192.0.2.100', 80)).toBe('http://192.0.2.100:80/');
    expect(httpUrl('2001:db8::100', 8080)).toBe('http://[2001:db8::100]:8080/');
  });
});

describe('parseResponderArgs', () => {
  it('takes --port and --name in any order, and the lifeline flag', () => {
    expect(parseResponderArgs(['--name', 'node-1', '--port', '8080'])).toEqual({ port: 8080, name: 'node-1', exitOnStdinClose: false });
    expect(parseResponderArgs(['--port', '1', '--exit-on-stdin-close', '--name', 'a'])).toEqual({ port: 1, name: 'a', exitOnStdinClose: true });
  });

  it.each([[[]], [['--port', '8080']], [['--name', 'x']], [['--port', '0', '--name', 'x']], [['--port', '8080', '--name', 'two words']], [['--port', '8080', '--name']], [['--bogus', '1']]])(
    'refuses %j',
    (argv) => {
      expect(parseResponderArgs(argv)).toHaveProperty('error');
    },
  );
});
