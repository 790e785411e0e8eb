#!/usr/bin/env node
// Entry point run with `ip netns exec` by Lab.httpGet: `http-get.js IP PORT TIMEOUT_MS`
// GETs http://IP:PORT/ and prints one JSON line {ok, status?, body?, code, ms}.
import { parsePort } from './forward.js';
import { httpGet } from './http.js';

const [ip, portText, timeoutText] = process.argv.slice(2);
const port = parsePort(portText);
const timeoutMs = Number(timeoutText);
if (ip === undefined || port === undefined || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  process.stderr.write('usage: http-get.js IP PORT TIMEOUT_MS\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await httpGet(ip, port, timeoutMs))}\n`);
