#!/usr/bin/env node
// Entry point run with `ip netns exec` by Lab.serveHttp: `responder.js --port P --name NAME`
// answers every HTTP request on [::]:P (IPv4 too) with 200 and the body `NAME\n`, and
// prints one JSON line {"event":"listening","port":P} once it listens. SIGTERM or
// SIGINT closes it and exits 0; with --exit-on-stdin-close, so does a closed stdin.
import { listeningPort, parseResponderArgs, startResponder } from './http.js';

const args = parseResponderArgs(process.argv.slice(2));
if ('error' in args) {
  process.stderr.write(`${args.error}\n`);
  process.exit(2);
}
try {
  const server = await startResponder(args.port, args.name);
  const stop = (): void => {
    server.close(() => process.exit(0));
    // Keep-alive connections would hold close() open.
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (args.exitOnStdinClose) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: listeningPort(server) })}\n`);
} catch (err) {
  process.stderr.write(`responder: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
