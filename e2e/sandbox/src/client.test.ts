import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { getByName, pinnedLookup } from './client.js';

describe('HTTP by name through one IP (curl --resolve)', () => {
  let server: Server;
  let port: number;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.host ?? '');
      const name = (req.headers.host ?? '').split('.')[0] ?? '';
      res.writeHead(name === 'app1' ? 200 : 404, { 'content-type': 'text/plain' });
      res.end(`${name}\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('connects to the IP and asks for the name, without a resolver', async () => {
    const a = await getByName('app1.sandbox.test', '127.0.0.1', port, 2_000);
    expect(a).toMatchObject({ ok: true, status: 200, body: 'app1', code: 'OK' });
    expect(seen).toContain(`app1.sandbox.test:${port}`);
  });

  it('reports a non-2xx answer as not ok, with its status and body', async () => {
    expect(await getByName('nope.sandbox.test', '127.0.0.1', port, 2_000)).toMatchObject({ ok: false, status: 404, body: 'nope', code: 'OK' });
  });

  it('reports a refused connection and a silent server by code', async () => {
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await getByName('app1.sandbox.test', '127.0.0.1', freePort, 2_000)).toMatchObject({ ok: false, code: 'ECONNREFUSED' });

    // Reads and never answers; resume() so that the client's close reaches it and close() can finish.
    const silent = createTcpServer((s) => s.on('error', () => undefined).resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const a = await getByName('app1.sandbox.test', '127.0.0.1', (silent.address() as AddressInfo).port, 200);
    await new Promise((r) => silent.close(r));
    expect(a).toMatchObject({ ok: false, code: 'TIMEOUT' });
  });

  it('refuses a target that is not an IP address', async () => {
    await expect(getByName('app1.sandbox.test', 'example.com', 80, 1_000)).rejects.toThrow(/not an IP address/);
  });

  it('answers every lookup with the pinned IP, in both callback shapes', () => {
    const lookup = pinnedLookup('2001:db8::100');
    const got: unknown[] = [];
    lookup('anything.test', { all: true }, (...args: unknown[]) => got.push(args));
    lookup('anything.test', {}, (...args: unknown[]) => got.push(args));
    expect(got).toEqual([
      [null, [{ address: '2001:db8::100', family: 6 }]],
      [null, '2001:db8::100', 6],
    ]);
  });
});
