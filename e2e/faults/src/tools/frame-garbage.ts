#!/usr/bin/env node
/**
 * Run in a lab host (`ip netns exec`): `frame-garbage.js CONFIG_JSON` sends malformed ARP and
 * NDP frames out of eth0 through an AF_PACKET socket, `rounds` times (every deterministic
 * malformation once per round, plus `randomPerRound` random frames), `intervalMs` apart,
 * then prints one JSON line: how many of each kind it sent. CONFIG_JSON:
 * `{ "addresses": FrameAddresses, "rounds": N, "randomPerRound": N, "intervalMs": N }`.
 */
import { randomBytes } from 'node:crypto';
import { ETHERTYPE_ARP, openPacketSocket } from '@herald/native';
import { garbageFrames, randomFrame, type FrameAddresses } from '../frames.js';

interface Config {
  readonly addresses: FrameAddresses;
  readonly rounds: number;
  readonly randomPerRound: number;
  readonly intervalMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '') as Config;
  // Sending is not restricted by the socket's ethertype; ARP is just what it would receive.
  const sock = openPacketSocket({ ifname: 'eth0', ethertype: ETHERTYPE_ARP });
  const sent: Record<string, number> = {};
  const errors: string[] = [];
  const fixed = garbageFrames(cfg.addresses);
  for (let round = 0; round < cfg.rounds; round++) {
    const frames = [...fixed, ...Array.from({ length: cfg.randomPerRound }, () => randomFrame(cfg.addresses, randomBytes))];
    for (const f of frames) {
      try {
        sock.send(f.frame);
        sent[f.kind] = (sent[f.kind] ?? 0) + 1;
      } catch (err) {
        if (errors.length < 10) errors.push(`${f.kind}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await sleep(cfg.intervalMs);
  }
  sock.close();
  process.stdout.write(`${JSON.stringify({ sent, errors })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`frame-garbage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
