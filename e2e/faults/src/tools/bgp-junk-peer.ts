#!/usr/bin/env node
/**
 * Run in a lab router host (`ip netns exec`): `bgp-junk-peer.js CONFIG_JSON` listens on
 * 0.0.0.0:179 like a BGP router and answers each connection with the next misbehaviour of
 * JUNK_VARIANTS (counted per remote address), reading what the other side sends. Prints
 * `{"event":"listening"}`, then one JSON line per finished connection (a JunkConnection).
 * Stops on SIGTERM or when stdin closes. CONFIG_JSON: `{ "asn": N, "bgpId": "a.b.c.d" }`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { BAD_UPDATE, firstBytes, JUNK_VARIANTS, readMessages, type JunkConnection, type JunkVariant } from '../bgp-junk.js';

interface Config {
  readonly asn: number;
  readonly bgpId: string;
}

/** Our side closes a connection this long after it opened, whatever happened. */
const HOLD_MS = 1_500;

function serve(cfg: Config, sock: Socket, variant: JunkVariant): void {
  const t0 = Date.now();
  const remote = sock.remoteAddress ?? '?';
  const received: number[] = [];
  const notifications: [number, number][] = [];
  let buf: Buffer = Buffer.alloc(0);
  let sentUpdate = false;
  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    const c: JunkConnection = { remote, variant, received, notifications, ms: Date.now() - t0 };
    process.stdout.write(`${JSON.stringify(c)}\n`);
  };
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const r = readMessages(buf);
    buf = r.rest;
    for (const m of r.messages) {
      received.push(m.type);
      if (m.code !== undefined && m.subcode !== undefined) notifications.push([m.code, m.subcode]);
      // The session is up once the speaker's KEEPALIVE answers our OPEN: now the bad UPDATE.
      if (variant === 'badUpdate' && m.type === 4 && !sentUpdate) {
        sentUpdate = true;
        sock.write(BAD_UPDATE);
      }
    }
    if (r.bad) sock.destroy();
  });
  // Writes after the speaker has closed fail (EPIPE, ECONNRESET): that is the point.
  sock.on('error', () => undefined);
  sock.on('close', report);
  const timer = setTimeout(() => sock.destroy(), HOLD_MS);
  sock.on('close', () => clearTimeout(timer));
  const first = firstBytes(variant, cfg.asn, cfg.bgpId, randomBytes);
  if (first.length > 0) sock.write(first);
  if (variant === 'truncated') sock.end();
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '') as Config;
  const next = new Map<string, number>();
  const server = createServer((sock) => {
    const remote = sock.remoteAddress ?? '?';
    const i = next.get(remote) ?? 0;
    next.set(remote, i + 1);
    serve(cfg, sock, JUNK_VARIANTS[i % JUNK_VARIANTS.length] ?? 'noise');
  });
  server.listen({ host: '0.0.0.0', port: 179 }, () => process.stdout.write(`${JSON.stringify({ event: 'listening' })}\n`));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

main();
