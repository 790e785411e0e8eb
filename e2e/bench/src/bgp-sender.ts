/**
 * The announcing side of the BGP prefix benchmark, run inside a lab node's namespace
 * (`node dist/bgp-sender.js CONFIG_JSON`): bgp-speaker-lite's `BgpPeer`, one per router, each
 * with the same routes loaded into its Adj-RIB-Out before the session starts, so that what is
 * timed is the session carrying them, not building them.
 *
 * stdin, one JSON object per line: `{ "op": "start" | "stop" | "counters", "id": N, "peers"?: [NAME] }`
 * (start/stop act on the named peers, all when absent).
 * stdout, one JSON object per line, each with `at` (epoch ms, sub-millisecond):
 * `{ "event": "ready" }`, `{ "event": "ack", "id", "counters"? }`, and per peer
 * `{ "event": "established" | "down", "peer" }`.
 * Exits when stdin closes (Cease to every peer first): the pipe is its lifeline.
 */
import { BgpPeer } from 'bgp-speaker-lite';
import { z } from 'zod';
import { WallClock, hostPrefixes } from './bgp-parse.js';

const config = z.object({
  localAsn: z.number().int().min(1).max(0xffff_ffff),
  routerId: z.ipv4(),
  nextHop: z.ipv4(),
  /** First address of the /32 prefixes. */
  base: z.ipv4(),
  count: z.number().int().min(0).max(1_000_000),
  holdTimeSec: z.number().int().min(3).max(65535).default(90),
  peers: z
    .array(
      z.object({
        name: z.string().min(1),
        address: z.ipv4(),
        asn: z.number().int().min(1).max(0xffff_ffff),
        localAddress: z.ipv4().exactOptional(),
        port: z.number().int().min(1).max(65535).exactOptional(),
      }),
    )
    .min(1),
});
/** What {@link main} takes as its one argument. */
export type SenderConfig = z.input<typeof config>;

const command = z.object({ op: z.enum(['start', 'stop', 'counters']), id: z.number().int(), peers: z.array(z.string()).exactOptional() });

const clock = new WallClock();
clock.calibrate();

function emit(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ...event, at: clock.now() }) + '\n');
}

function main(): void {
  const c = config.parse(JSON.parse(process.argv[2] ?? 'null'));
  const routes = hostPrefixes(c.base, c.count).map((prefix) => ({ prefix, nextHop: c.nextHop }));
  const peers = new Map<string, BgpPeer>();
  for (const p of c.peers) {
    const peer = new BgpPeer({
      localAsn: c.localAsn,
      peerAsn: p.asn,
      peerAddress: p.address,
      ...(p.localAddress === undefined ? {} : { localAddress: p.localAddress }),
      ...(p.port === undefined ? {} : { port: p.port }),
      routerId: c.routerId,
      holdTimeSec: c.holdTimeSec,
      families: ['ipv4'],
      connectRetryMs: 200,
      connectRetryMaxMs: 1_000,
    });
    peer.on('established', () => emit({ event: 'established', peer: p.name }));
    peer.on('down', (d) => emit({ event: 'down', peer: p.name, reason: d.reason }));
    peer.setRoutes(routes);
    peers.set(p.name, peer);
  }
  const counters = (): Record<string, unknown> => Object.fromEntries([...peers].map(([n, p]) => [n, p.counters]));
  const onLine = (line: string): void => {
    if (line.trim() === '') return;
    const cmd = command.parse(JSON.parse(line));
    const targets = (cmd.peers ?? [...peers.keys()]).map((n) => {
      const p = peers.get(n);
      if (p === undefined) throw new Error(`no peer ${n}`);
      return p;
    });
    if (cmd.op === 'start') {
      clock.calibrate();
      for (const p of targets) p.start();
    } else if (cmd.op === 'stop') {
      for (const p of targets) p.stop('herald bench: trial over');
    }
    emit({ event: 'ack', id: cmd.id, counters: counters() });
  };
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  process.stdin.on('end', () => {
    for (const p of peers.values()) p.stop('herald bench: done');
    // Let the Cease NOTIFICATIONs flush before the sockets go with the process.
    setTimeout(() => process.exit(0), 200);
  });
  emit({ event: 'ready', routes: routes.length });
}

main();
