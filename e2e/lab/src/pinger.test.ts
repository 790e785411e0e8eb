import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { listeningPort, startResponder } from './http.js';
import { parsePingLine } from './pinger-client.js';
import { parsePingerArgs, startPinging, type Ping } from './pinger.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Unit tier: loopback only.
describe('the probe loop on loopback', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = await startResponder(0, 'node-2', '127.0.0.1');
    port = listeningPort(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('reports one line per probe, naming the node that answered, and reports every started probe on stop', async () => {
    const pings: Ping[] = [];
    const p = startPinging({ ip: '127.0.0.1', port, intervalMs: 10, timeoutMs: 1_000 }, (x) => pings.push(x));
    await sleep(300);
    await p.stop();
    const seqs = pings.map((x) => x.seq).sort((a, b) => a - b);
    expect(seqs.length).toBeGreaterThanOrEqual(10);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(pings.every((x) => x.ok && x.node === 'node-2' && x.code === 'OK')).toBe(true);
    const starts = [...pings].sort((a, b) => a.seq - b.seq).map((x) => x.t);
    expect(starts.every((t, i) => i === 0 || t >= (starts[i - 1] ?? 0))).toBe(true);
  });

  it('keeps its rate when the target is silent: probes overlap instead of waiting for each timeout', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const pings: Ping[] = [];
      const p = startPinging({ ip: '127.0.0.1', port: (silent.address() as { port: number }).port, intervalMs: 10, timeoutMs: 150 }, (x) => pings.push(x));
      await sleep(400);
      await p.stop();
      // Serialised probes would manage 400 / 150, about 3.
      expect(pings.length).toBeGreaterThanOrEqual(15);
      expect(pings.every((x) => !x.ok && x.node === null && x.code === 'TIMEOUT')).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe('parsePingerArgs', () => {
  it('needs an address and defaults to port 80, every 10 ms, 100 ms timeout', () => {
    expect(parsePingerArgs(['--ip', '192.0.2.100'])).toEqual({ ip: '192.0.2.100', port: 80, intervalMs: 10, timeoutMs: 100 });
    expect(parsePingerArgs(['--timeout-ms', '50', '--ip', '2001:db8::1', '--port', '8080', '--interval-ms', '5'])).toEqual({ ip: '2001:db8::1', port: 8080, intervalMs: 5, timeoutMs: 50 });
  });

  it('refuses names, bad numbers and unknown flags', () => {
    for (const argv of [[], ['--ip', 'example.com'], ['--ip', '192.0.2.1', '--port', '0'], ['--ip', '192.0.2.1', '--interval-ms', '-1'], ['--ip', '192.0.2.1', '--timeout-ms', '1.5'], ['--ip', '192.0.2.1', '--count', '3']]) {
      expect(parsePingerArgs(argv)).toHaveProperty('error');
    }
  });
});

describe('parsePingLine', () => {
  it('reads the pinger output and ignores anything else', () => {
    expect(parsePingLine('{"seq":3,"t":1700000000000,"ok":true,"node":"node-2","ms":2,"code":"OK"}')).toEqual({ seq: 3, t: 1700000000000, ok: true, node: 'node-2', ms: 2, code: 'OK' });
    expect(parsePingLine('{"seq":4,"t":1700000000010,"ok":false,"node":null,"ms":100,"code":"TIMEOUT"}')?.node).toBeNull();
    expect(parsePingLine('not json')).toBeUndefined();
    expect(parsePingLine('{"event":"listening"}')).toBeUndefined();
  });
});
