#!/usr/bin/env node
/**
 * `bgp-lite peer ...`: one BgpPeer driven from a terminal, for people debugging a router.
 * Events go to stdout as JSON lines, the peer's log to stderr, commands come from stdin.
 * The I/O lives here; flags, commands and output are pure (args.ts, commands.ts, render.ts).
 * @packageDocumentation
 */

import { createInterface } from 'node:readline';
import { BgpPeer, type PeerLogger } from '../peer/peer.js';
import { parseCommandLine, USAGE, type PeerCommandConfig } from './args.js';
import { COMMAND_HELP, parseCommand, RouteTable, type Command } from './commands.js';
import * as render from './render.js';
import type { RouteDefaults } from './route.js';

/** How long `quit` waits for the peer to take the Cease and close before exiting anyway. */
const QUIT_GRACE_MS = 3_000;

const emit = (e: render.OutputEvent): void => {
  process.stdout.write(render.line(e));
};

/** The peer's log as JSON lines on stderr, errors reduced to their message. */
const stderrLog = (level: string): ((fields: Record<string, unknown>, msg: string) => void) => (fields, msg) => {
  const plain = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? v.message : v]));
  process.stderr.write(`${JSON.stringify({ level, msg, ...plain })}\n`);
};
const log: PeerLogger = { info: stderrLog('info'), warn: stderrLog('warn') };

function runPeer(config: PeerCommandConfig): void {
  const peer = new BgpPeer({
    localAsn: config.localAsn,
    peerAsn: config.peerAsn,
    peerAddress: config.peerAddress,
    port: config.port,
    routerId: config.routerId,
    holdTimeSec: config.holdTimeSec,
    connectRetryMs: config.connectRetryMs,
    families: config.families,
    ...(config.localAddress !== undefined ? { localAddress: config.localAddress } : {}),
    log,
  });
  peer.on('state', (c) => emit(render.stateEvent(c)));
  peer.on('established', (n) => emit(render.establishedEvent(n)));
  peer.on('down', (d) => emit(render.downEvent(d)));

  const defaults: RouteDefaults = { families: config.families, ...(config.localAddress !== undefined ? { localAddress: config.localAddress } : {}) };
  let table = new RouteTable(config.announce);
  peer.setRoutes(table.routes);

  /** Swaps in a new route table; on a route the peer refuses, keeps the old one. */
  const apply = (next: RouteTable, event: string, prefix: string): void => {
    try {
      const diff = peer.setRoutes(next.routes);
      table = next;
      emit({ event, prefix, sent: peer.state === 'Established', announced: diff.announce.length, withdrawn: diff.withdraw.length });
    } catch (err) {
      emit(render.errorEvent(`${event} ${prefix}: ${(err as Error).message}`));
    }
  };

  const rl = createInterface({ input: process.stdin, terminal: false });
  let quitting = false;
  const quit = (message?: string): void => {
    if (quitting) return;
    quitting = true;
    peer.stop(message);
    emit({ event: 'quit', ...(message !== undefined ? { message } : {}) });
    rl.close();
    process.stdin.destroy();
    // The process ends once the connection has closed (after the Cease is flushed); a peer
    // that never answers the FIN must not keep it alive.
    setTimeout(() => process.exit(0), QUIT_GRACE_MS).unref();
  };

  const execute = (command: Command): void => {
    switch (command.type) {
      case 'announce': {
        const next = new RouteTable(table.routes);
        const key = next.announce(command.route);
        return apply(next, 'announce', key);
      }
      case 'withdraw': {
        if (!table.has(command.prefix)) return emit(render.errorEvent(`withdraw ${command.prefix}: not announced`));
        const next = new RouteTable(table.routes);
        next.withdraw(command.prefix);
        return apply(next, 'withdraw', command.prefix);
      }
      case 'show':
        return emit(render.showEvent({ state: peer.state, negotiated: peer.negotiated, counters: peer.counters, routes: peer.routes }));
      case 'help':
        return emit({ event: 'help', commands: COMMAND_HELP });
      case 'quit':
        return quit(command.message);
    }
  };

  rl.on('line', (text) => {
    if (quitting) return;
    const parsed = parseCommand(text, defaults);
    if (!parsed.ok) emit(render.errorEvent(parsed.error));
    else if (parsed.command !== undefined) execute(parsed.command);
  });
  // End of input, Ctrl-C or a kill: leave the way `quit` does, with a Cease.
  rl.on('close', () => quit());
  process.once('SIGINT', () => quit());
  process.once('SIGTERM', () => quit());

  emit({ event: 'start', peerAddress: config.peerAddress, port: config.port, localAsn: config.localAsn, peerAsn: config.peerAsn, routes: table.routes.length });
  peer.start();
}

const parsed = parseCommandLine(process.argv.slice(2));
if (!parsed.ok) {
  process.stderr.write(`bgp-lite: ${parsed.error} (see bgp-lite --help)\n`);
  process.exitCode = 2;
} else if ('help' in parsed) {
  process.stdout.write(`${USAGE}\n`);
} else {
  runPeer(parsed.config);
}
