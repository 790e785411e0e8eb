#!/usr/bin/env node
// Run with `ip netns exec` in the client: `http-host.js HOST_NAME IP PORT TIMEOUT_MS` GETs
// http://HOST_NAME:PORT/ over a connection to IP and prints one JSON line (an Answer).
import { getByName } from './client.js';

const [hostName, ip, portText, timeoutText] = process.argv.slice(2);
const port = Number(portText);
const timeoutMs = Number(timeoutText);
if (hostName === undefined || ip === undefined || !Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  process.stderr.write('usage: http-host.js HOST_NAME IP PORT TIMEOUT_MS\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await getByName(hostName, ip, port, timeoutMs))}\n`);
