/**
 * Command-line flags of `bgp-lite`, parsed and validated in one pure step: argv in, a complete
 * configuration or a one-line reason out. Nothing here touches the process.
 *
 * The package takes no dependencies (node built-ins only), so this is hand-written validation
 * on top of `node:util` `parseArgs` rather than a zod schema.
 * @packageDocumentation
 */

import { parseArgs } from 'node:util';
import { parseAddress, parseIpv4 } from '../codec/prefix.js';
import type { Afi } from '../codec/types.js';
import type { PeerRoute } from '../peer/adjribout.js';
import { parseAnnounceFlag, parseInteger, UsageError, type RouteDefaults } from './route.js';

/** Everything `bgp-lite peer` needs to run one BgpPeer. */
export interface PeerCommandConfig {
  readonly command: 'peer';
  readonly peerAddress: string;
  readonly peerAsn: number;
  readonly localAsn: number;
  readonly routerId: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly holdTimeSec: number;
  readonly connectRetryMs: number;
  readonly families: readonly Afi[];
  /** Routes from `--announce`, validated. */
  readonly announce: readonly PeerRoute[];
}

/** The outcome of {@link parseCommandLine}. */
export type ParsedCommandLine =
  | { readonly ok: true; readonly config: PeerCommandConfig }
  | { readonly ok: true; readonly help: true }
  | { readonly ok: false; readonly error: string };

export const USAGE = `usage: bgp-lite peer --peer-address A --peer-asn N --local-asn N --router-id X
                     [--port 179] [--local-address A] [--hold-time 90] [--connect-retry-ms 1000]
                     [--ipv6] [--announce PREFIX[,nexthop=IP][,community=a:b][,large=a:b:c][,local-pref=N][,med=N]]...

Runs one BGP session (active TCP), prints state changes and events as one JSON object per line
on stdout, and reads commands on stdin, one per line:
  announce PREFIX [nexthop IP] [community a:b]... [large a:b:c]... [local-pref N] [med N]
  withdraw PREFIX
  show
  quit [shutdown message]
A route without a next hop takes --local-address when that is of the prefix's family.`;

const OPTIONS = {
  'peer-address': { type: 'string' },
  'peer-asn': { type: 'string' },
  'local-asn': { type: 'string' },
  'router-id': { type: 'string' },
  port: { type: 'string' },
  'local-address': { type: 'string' },
  'hold-time': { type: 'string' },
  'connect-retry-ms': { type: 'string' },
  ipv6: { type: 'boolean' },
  announce: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

function required(values: Readonly<Record<string, unknown>>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string') throw new UsageError(`--${name} is required`);
  return v;
}

const parseAsn = (what: string, text: string): number => parseInteger(what, text, 1, 0xffff_ffff);

function parseHoldTime(text: string): number {
  const n = parseInteger('--hold-time', text, 0, 0xffff);
  // RFC 4271 §4.2: the Hold Time MUST be either zero or at least three seconds.
  if (n === 1 || n === 2) throw new UsageError(`--hold-time: must be 0 or at least 3 (RFC 4271 4.2), got ${n}`);
  return n;
}

function parseRouterId(text: string): string {
  const bytes = parseIpv4(text);
  // RFC 6286 §2.1: a non-zero 4-octet value, written as a dotted quad.
  if (bytes === undefined || bytes.every((b) => b === 0)) throw new UsageError(`--router-id: want a non-zero dotted quad, got ${JSON.stringify(text)}`);
  return text;
}

function addressFamily(what: string, text: string): Afi {
  const address = parseAddress(text);
  if (address === undefined) throw new UsageError(`${what}: want an IPv4 or IPv6 address, got ${JSON.stringify(text)}`);
  return address.afi;
}

function parseFlags(args: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'] {
  try {
    return parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs explains in several lines; the first says what is wrong.
    throw new UsageError((err as Error).message.split('\n')[0] ?? String(err));
  }
}

function parsePeer(args: readonly string[]): PeerCommandConfig | 'help' {
  const v = parseFlags(args);
  if (v.help === true) return 'help';
  const peerAddress = required(v, 'peer-address');
  const peerAfi = addressFamily('--peer-address', peerAddress);
  const localAddress = v['local-address'];
  if (localAddress !== undefined && addressFamily('--local-address', localAddress) !== peerAfi) {
    throw new UsageError(`--local-address ${localAddress} is not of the family of --peer-address ${peerAddress}`);
  }
  const families: Afi[] = v.ipv6 === true ? ['ipv4', 'ipv6'] : ['ipv4'];
  const defaults: RouteDefaults = { families, ...(localAddress !== undefined ? { localAddress } : {}) };
  return {
    command: 'peer',
    peerAddress,
    peerAsn: parseAsn('--peer-asn', required(v, 'peer-asn')),
    localAsn: parseAsn('--local-asn', required(v, 'local-asn')),
    routerId: parseRouterId(required(v, 'router-id')),
    port: v.port === undefined ? 179 : parseInteger('--port', v.port, 1, 65_535),
    ...(localAddress !== undefined ? { localAddress } : {}),
    holdTimeSec: v['hold-time'] === undefined ? 90 : parseHoldTime(v['hold-time']),
    connectRetryMs: v['connect-retry-ms'] === undefined ? 1_000 : parseInteger('--connect-retry-ms', v['connect-retry-ms'], 10, 3_600_000),
    families,
    announce: (v.announce ?? []).map((spec) => parseAnnounceFlag(spec, defaults)),
  };
}

/** Parses `argv` (without node and the script). Pure; invalid input is a result, not an exception. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') return { ok: true, help: true };
  if (command !== 'peer') {
    return { ok: false, error: command === undefined ? 'missing command (want: peer)' : `unknown command ${JSON.stringify(command)} (want: peer)` };
  }
  try {
    const config = parsePeer(rest);
    return config === 'help' ? { ok: true, help: true } : { ok: true, config };
  } catch (err) {
    if (err instanceof UsageError) return { ok: false, error: err.message };
    throw err;
  }
}

