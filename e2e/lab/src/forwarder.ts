#!/usr/bin/env node
// Entry point run with `ip netns exec` (a Node process cannot switch namespaces
// itself). Prints "ready" once listening; exits when its stdin closes, so it
// does not outlive the test process that started it.
import { parseForwarderArgs, startForwarder } from './forward.js';

const args = parseForwarderArgs(process.argv.slice(2));
if ('error' in args) {
  process.stderr.write(`${args.error}\n`);
  process.exit(2);
}
try {
  const server = await startForwarder(args.listen, args.target, (err) => process.stderr.write(`${err.message}\n`));
  process.stdout.write('ready\n');
  // Start it with a piped stdin: a closed stdin means the parent is gone.
  process.stdin.on('end', () => {
    server.close();
    process.exit(0);
  });
  process.stdin.resume();
} catch (err) {
  process.stderr.write(`forwarder: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
