#!/usr/bin/env node
/**
 * Run in a lab host (`ip netns exec`): `udp-garbage.js CONFIG_JSON` sends malformed datagrams
 * to the speakers' membership port, `rounds` times `intervalMs` apart (each kind to each
 * target once per round), then tries a TCP connection to each `tcp` target and writes
 * garbage if one is accepted. Prints one JSON line: datagrams sent per target and kind, and
 * each TCP attempt's outcome. CONFIG_JSON:
 * `{ "targets": [{address, port}], "rounds": N, "intervalMs": N, "tcp": [{address, port}] }`.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { UDP_KINDS } from '../datagrams.js';

interface Endpoint {
  readonly address: string;
  readonly port: number;
}

interface Config {
  readonly targets: readonly Endpoint[];
  readonly rounds: number;
  readonly intervalMs: number;
  readonly tcp: readonly Endpoint[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Connects, writes 4 KiB of random bytes if accepted, and says what happened. */
function tcpGarbage(to: Endpoint): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: to.address, port: to.port });
    const done = (code: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done('TIMEOUT'), 2_000);
    s.once('connect', () => s.write(randomBytes(4096), () => done('ACCEPTED')));
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '') as Config;
  const sock = createSocket('udp4');
  const sent: Record<string, Record<string, number>> = {};
  const errors: string[] = [];
  const send = (buf: Buffer, to: Endpoint): Promise<void> =>
    new Promise((resolve) => {
      sock.send(buf, to.port, to.address, (err) => {
        if (err && errors.length < 10) errors.push(err.message);
        resolve();
      });
    });
  for (let round = 0; round < cfg.rounds; round++) {
    for (const to of cfg.targets) {
      const key = `${to.address}:${to.port}`;
      const counts = (sent[key] ??= {});
      for (const k of UDP_KINDS) {
        await send(k.make(randomBytes), to);
        counts[k.kind] = (counts[k.kind] ?? 0) + 1;
      }
    }
    await sleep(cfg.intervalMs);
  }
  sock.close();
  const tcp: Record<string, string> = {};
  for (const to of cfg.tcp) tcp[`${to.address}:${to.port}`] = await tcpGarbage(to);
  process.stdout.write(`${JSON.stringify({ sent, tcp, errors })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`udp-garbage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
