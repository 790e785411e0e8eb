/**
 * A stand-in for Herald's speaker in a lab node: BGP sessions from bgp-speaker-lite's
 * `BgpPeer` to routers, driven over stdin/stdout so a test in the root namespace can run it
 * inside a node's namespace (`node dist/routers/bgp-node.js CONFIG_JSON`).
 *
 * stdin, one JSON object per line:
 *   `{ "op": "setRoutes", "id": 1, "routes": [...], "peers"?: ["frr"] }` (all peers when absent)
 *   `{ "op": "stop", "id": 2, "peers"?: [...] }` (Cease to those peers; they stay Idle)
 *   `{ "op": "start", "id": 3, "peers"?: [...] }`
 * stdout, one JSON object per line: `{ "event": "ready" }`, `{ "event": "ack", "id" }`,
 * `{ "event": "error", "id", "message" }`, and per peer `state`, `established`, `down`; each with
 * `at` (epoch ms).
 * The process exits when stdin closes: the pipe is its lifeline, so it never outlives its test.
 */
import { BgpPeer } from 'bgp-speaker-lite';
import { z } from 'zod';
import { bgpNodeCommand, bgpNodeConfig, type BgpNodeEvent } from './bgp-node-protocol.js';

function emit(event: BgpNodeEvent): void {
  process.stdout.write(JSON.stringify({ ...event, at: Date.now() }) + '\n');
}

function main(): void {
  const config = bgpNodeConfig.parse(JSON.parse(process.argv[2] ?? 'null'));
  const peers = new Map<string, BgpPeer>();
  for (const p of config.peers) {
    const peer = new BgpPeer({
      localAsn: p.localAsn ?? config.localAsn,
      peerAsn: p.peerAsn,
      peerAddress: p.peerAddress,
      ...(p.localAddress === undefined ? {} : { localAddress: p.localAddress }),
      ...(p.port === undefined ? {} : { port: p.port }),
      routerId: config.routerId,
      holdTimeSec: p.holdTimeSec ?? config.holdTimeSec,
      families: p.families,
      connectRetryMs: config.connectRetryMs,
    });
    peer.on('state', (c) => emit({ event: 'state', peer: p.name, from: c.from, to: c.to }));
    peer.on('established', (n) => emit({ event: 'established', peer: p.name, holdTimeSec: n.holdTimeSec }));
    peer.on('down', (d) => emit({ event: 'down', peer: p.name, from: d.from, reason: d.reason }));
    peers.set(p.name, peer);
  }
  const select = (names: readonly string[] | undefined): BgpPeer[] => {
    if (names === undefined) return [...peers.values()];
    return names.map((n) => {
      const peer = peers.get(n);
      if (peer === undefined) throw new Error(`no peer ${JSON.stringify(n)} (peers: ${[...peers.keys()].join(', ')})`);
      return peer;
    });
  };
  const onLine = (line: string): void => {
    if (line.trim() === '') return;
    let id: number | undefined;
    try {
      const cmd = bgpNodeCommand.parse(JSON.parse(line));
      id = cmd.id;
      const targets = select(cmd.peers);
      if (cmd.op === 'setRoutes') for (const p of targets) p.setRoutes(cmd.routes);
      else if (cmd.op === 'stop') for (const p of targets) p.stop('herald lab: stop');
      else for (const p of targets) p.start();
      emit({ event: 'ack', id: cmd.id });
    } catch (err) {
      emit({ event: 'error', ...(id === undefined ? {} : { id }), message: err instanceof z.ZodError ? z.prettifyError(err) : String(err) });
    }
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
    for (const p of peers.values()) p.stop('herald lab: test ended');
    // Let the Cease NOTIFICATIONs flush before the sockets go with the process.
    setTimeout(() => process.exit(0), 200);
  });
  if (config.routes.length > 0) for (const p of peers.values()) p.setRoutes(config.routes);
  for (const p of peers.values()) p.start();
  emit({ event: 'ready' });
}

main();
