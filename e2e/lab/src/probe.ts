#!/usr/bin/env node
// Entry point run with `ip netns exec` by Lab.reachable: `probe.js IP PORT TIMEOUT_MS`,
// prints one JSON line {reachable, code, ms}.
import { parsePort } from './forward.js';
import { probeTcp } from './reach.js';

const [ip, portText, timeoutText] = process.argv.slice(2);
const port = parsePort(portText);
const timeoutMs = Number(timeoutText);
if (ip === undefined || port === undefined || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  process.stderr.write('usage: probe.js IP PORT TIMEOUT_MS\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await probeTcp(ip, port, timeoutMs))}\n`);
