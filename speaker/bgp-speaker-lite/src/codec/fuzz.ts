/**
 * Mutation fuzzer for the framer and decoder: valid messages of every type (RFC 4271 §4,
 * RFC 2918 §3) are generated from a seeded PRNG, mutated (bit flips, interesting bytes,
 * truncation, length-field edits, insertion, deletion, duplication) and fed through the
 * {@link MessageFramer} and {@link decodeMessage}. Any exception is a bug: the decoder must
 * answer malformed input with a NOTIFICATION or an RFC 7606 outcome, never throw.
 *
 * Header of every input (RFC 4271 §4.1), whose Length field the fuzzer often keeps consistent
 * so mutations reach the message body:
 * ```
 * | Marker (16 octets, all ones) | Length (2) | Type (1) | body ... |
 * ```
 * @module
 */
import { AttrFlag, CeaseSubcode, ErrorCode, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { MessageFramer } from './framer.js';
import { ceaseNotification } from './messages.js';
import { endOfRib } from './pack.js';
import { formatIpv4, formatIpv6 } from './prefix.js';
import type {
  AsPathSegment,
  AsPathSegmentType,
  BgpMessage,
  CodecContext,
  OpenMessage,
  PathAttributes,
  Prefix,
  RawAttribute,
  UpdateMessage,
} from './types.js';

/** Options of {@link mutationFuzz}. */
export interface FuzzOptions {
  /** Number of mutated inputs to feed. */
  count: number;
  /** PRNG seed; the same seed gives the same run. */
  seed: number;
  /** Distinct valid messages to mutate (default 512). */
  corpusSize?: number;
}

/** Outcome counts of a fuzz run; `decoded + rejected + incomplete + uncaught === count`. */
export interface FuzzReport {
  count: number;
  /** Inputs whose frames all decoded (including RFC 7606 attribute discard). */
  decoded: number;
  /** Inputs the framer or decoder rejected (NOTIFICATION, treat-as-withdraw). */
  rejected: number;
  /** Inputs that stopped short of a complete message (e.g. truncated). */
  incomplete: number;
  /** Inputs that made the framer or decoder throw: must be 0. */
  uncaught: number;
  firstUncaught?: { hex: string; error: string };
}

/** Small fast seeded PRNG (mulberry32). */
class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 <= n < bound */
  int(bound: number): number {
    return bound <= 1 ? 0 : this.u32() % bound;
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Valid message generators

function randomAsn(r: Prng, fourOctet: boolean): number {
  if (fourOctet && r.chance(0.4)) return 65536 + r.int(0xffffffff - 65536);
  return 1 + r.int(0xfffe);
}

function randomPrefix(r: Prng, afi: 'ipv4' | 'ipv6', hostOnly = false): Prefix {
  const size = afi === 'ipv4' ? 4 : 16;
  const length = hostOnly ? size * 8 : r.int(size * 8 + 1);
  const bytes = r.bytes(size);
  for (let i = 0; i < size; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return { afi, length, bytes };
}

function randomPrefixes(r: Prng, afi: 'ipv4' | 'ipv6', max: number): Prefix[] {
  const out: Prefix[] = [];
  const n = r.int(max + 1);
  for (let i = 0; i < n; i++) out.push(randomPrefix(r, afi, r.chance(0.5)));
  return out;
}

const SEGMENT_TYPES: readonly AsPathSegmentType[] = ['sequence', 'set', 'confed-sequence', 'confed-set'];

function randomPath(r: Prng, fourOctet: boolean, plain: boolean): AsPathSegment[] {
  const segments: AsPathSegment[] = [];
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const asns: number[] = [];
    const count = 1 + r.int(6);
    for (let j = 0; j < count; j++) asns.push(randomAsn(r, fourOctet));
    segments.push({ type: plain ? r.pick(SEGMENT_TYPES.slice(0, 2)) : r.pick(SEGMENT_TYPES), asns });
  }
  return segments;
}

function randomIpv4(r: Prng): string {
  return formatIpv4(r.bytes(4));
}

function randomUnknownAttributes(r: Prng): RawAttribute[] {
  const out: RawAttribute[] = [];
  const n = 1 + r.int(2);
  for (let i = 0; i < n; i++) {
    const flags = AttrFlag.OPTIONAL | (r.chance(0.5) ? AttrFlag.TRANSITIVE : 0) | (r.chance(0.3) ? AttrFlag.PARTIAL : 0);
    out.push({ flags, typeCode: 40 + r.int(200), value: r.bytes(r.int(r.chance(0.1) ? 300 : 12)) });
  }
  return out;
}

function randomAttributes(r: Prng, ctx: CodecContext, v4: boolean, v6: boolean): PathAttributes {
  const attrs: PathAttributes = {
    origin: r.pick(['igp', 'egp', 'incomplete'] as const),
    asPath: randomPath(r, ctx.fourOctetAs, false),
  };
  if (v4) attrs.nextHop = randomIpv4(r);
  if (r.chance(0.5)) attrs.med = r.u32();
  if (r.chance(0.5)) attrs.localPref = r.u32();
  if (r.chance(0.2)) attrs.atomicAggregate = true;
  if (r.chance(0.2)) attrs.aggregator = { asn: randomAsn(r, ctx.fourOctetAs), address: randomIpv4(r) };
  if (r.chance(0.5)) attrs.communities = Array.from({ length: 1 + r.int(4) }, () => r.u32());
  if (r.chance(0.4)) attrs.largeCommunities = Array.from({ length: 1 + r.int(3) }, () => [r.u32(), r.u32(), r.u32()] as const);
  if (!ctx.fourOctetAs && r.chance(0.2)) attrs.as4Path = randomPath(r, true, true);
  if (!ctx.fourOctetAs && r.chance(0.1)) attrs.as4Aggregator = { asn: randomAsn(r, true), address: randomIpv4(r) };
  if (v6) {
    attrs.mpReach = { afi: 'ipv6', nextHop: formatIpv6(r.bytes(16)), nlri: randomPrefixes(r, 'ipv6', 8) };
    if (r.chance(0.5)) attrs.mpReach.linkLocalNextHop = formatIpv6(r.bytes(16));
  }
  if (r.chance(0.2)) attrs.unknown = randomUnknownAttributes(r);
  return attrs;
}

function randomUpdate(r: Prng, ctx: CodecContext): UpdateMessage {
  if (r.chance(0.05)) return endOfRib(r.chance(0.5) ? 'ipv4' : 'ipv6');
  const big = ctx.extendedMessages && r.chance(0.05);
  const v4 = r.chance(0.7);
  const v6 = !v4 || r.chance(0.2);
  const attributes = r.chance(0.9) ? randomAttributes(r, ctx, v4, v6) : {};
  if (r.chance(0.2)) attributes.mpUnreach = { afi: 'ipv6', withdrawn: randomPrefixes(r, 'ipv6', 6) };
  const nlri = v4 && attributes.nextHop !== undefined ? randomPrefixes(r, 'ipv4', big ? 1200 : 10) : [];
  return { type: 'update', withdrawn: randomPrefixes(r, 'ipv4', 4), attributes, nlri };
}

function randomOpen(r: Prng): OpenMessage {
  const fourOctetAs = r.chance(0.8);
  const open: OpenMessage = {
    type: 'open',
    asn: randomAsn(r, fourOctetAs),
    holdTime: r.chance(0.1) ? 0 : 3 + r.int(65533),
    bgpId: formatIpv4(new Uint8Array([1 + r.int(254), r.int(256), r.int(256), r.int(256)])),
    capabilities: {
      multiprotocol: [
        { afi: 1, safi: 1 },
        { afi: 2, safi: 1 },
      ].filter(() => r.chance(0.7)),
      routeRefresh: r.chance(0.7),
      extendedMessage: r.chance(0.5),
      fourOctetAs,
      unknown: r.chance(0.3) ? [{ code: 70 + r.int(100), value: r.bytes(r.int(6)) }] : [],
    },
  };
  if (r.chance(0.5)) {
    open.capabilities.gracefulRestart = {
      restartState: r.chance(0.5),
      notification: r.chance(0.5),
      restartTime: r.int(4096),
      families: [{ afi: 1, safi: 1, forwardingState: r.chance(0.5) }].filter(() => r.chance(0.8)),
    };
  }
  return open;
}

const SHUTDOWN_TEXTS = ['', 'maintenance', 'planned work, back at 14:00 UTC', 'Wartung läuft – bis später', '計画メンテナンス'];

function randomMessage(r: Prng, ctx: CodecContext): BgpMessage {
  switch (r.int(8)) {
    case 0:
      return randomOpen(r);
    case 1:
      if (r.chance(0.5)) return ceaseNotification(r.pick([CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.ADMINISTRATIVE_RESET]), r.pick(SHUTDOWN_TEXTS));
      return { type: 'notification', code: 1 + r.int(ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR), subcode: r.int(12), data: r.bytes(r.int(8)) };
    case 2:
      return { type: 'keepalive' };
    case 3:
      return { type: 'route-refresh', afi: 1 + r.int(2), safi: 1, subtype: r.int(3) };
    default:
      return randomUpdate(r, ctx);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutation

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x0f, 0x10, 0x1f, 0x20, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff];
const SCRATCH_SIZE = MAX_EXTENDED_MESSAGE_LENGTH + 1024;

/** Applies one mutation to `buf[0, length)` in place; returns the new length. */
function mutateOnce(r: Prng, buf: Uint8Array, length: number): number {
  // Mostly past the header: a broken marker or type only exercises the first checks.
  const at = length > 19 && r.chance(0.9) ? 19 + r.int(length - 19) : r.int(length);
  switch (r.int(7)) {
    case 0:
      buf[at] = (buf[at] ?? 0) ^ (1 << r.int(8));
      return length;
    case 1:
      buf[at] = r.chance(0.8) ? r.pick(INTERESTING) : r.u32() & 0xff;
      return length;
    case 2:
      return r.int(length + 1);
    case 3: {
      // A length-like field: the header Length, or any 1/2-octet field in the body.
      const pos = r.chance(0.3) ? 16 : at;
      const old = ((buf[pos] ?? 0) << 8) | (buf[pos + 1] ?? 0);
      const value = r.pick([old + 1, old - 1, 0, 0xffff, r.int(0x10000), old + 8, old - 8]) & 0xffff;
      if (r.chance(0.5) || pos === 16) {
        buf[pos] = value >> 8;
        buf[pos + 1] = value & 0xff;
      } else {
        buf[pos] = value & 0xff;
      }
      return length;
    }
    case 4: {
      const n = 1 + r.int(8);
      if (length + n > buf.length) return length;
      buf.copyWithin(at + n, at, length);
      for (let i = 0; i < n; i++) buf[at + i] = r.chance(0.5) ? r.pick(INTERESTING) : r.u32() & 0xff;
      return length + n;
    }
    case 5: {
      const n = Math.min(1 + r.int(8), length - at);
      buf.copyWithin(at, at + n, length);
      return length - n;
    }
    default: {
      // Duplicate a slice (e.g. a whole attribute) somewhere else.
      const from = r.int(length);
      const n = Math.min(1 + r.int(16), length - from);
      if (length + n > buf.length) return length;
      const slice = buf.slice(from, from + n);
      buf.copyWithin(at + n, at, length);
      buf.set(slice, at);
      return length + n;
    }
  }
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

interface Seed {
  bytes: Uint8Array;
  ctx: CodecContext;
}

function buildCorpus(r: Prng, size: number): Seed[] {
  const corpus: Seed[] = [];
  for (let i = 0; i < size; i++) {
    const ctx: CodecContext = { fourOctetAs: r.chance(0.7), extendedMessages: r.chance(0.3) };
    corpus.push({ bytes: encodeMessage(randomMessage(r, ctx), ctx), ctx });
  }
  return corpus;
}

type Verdict = 'decoded' | 'rejected' | 'incomplete';

function classify(result: ReturnType<typeof decodeMessage>): Verdict {
  return result.ok ? 'decoded' : 'rejected';
}

function runFramer(framer: MessageFramer, input: Uint8Array, split: number, ctx: CodecContext): Verdict {
  let verdict: Verdict = 'incomplete';
  const chunks = split > 0 && split < input.length ? [input.subarray(0, split), input.subarray(split)] : [input];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let frame = framer.next(); frame !== undefined; frame = framer.next()) {
      if (!frame.ok) return 'rejected';
      if (classify(decodeMessage(frame.bytes, ctx)) === 'rejected') return 'rejected';
      verdict = 'decoded';
    }
  }
  return verdict;
}

/**
 * Generates `count` mutated messages from a seeded corpus and runs each through the framer
 * and decoder, counting outcomes and any exception (which must never happen).
 */
export function mutationFuzz(options: FuzzOptions): FuzzReport {
  const r = new Prng(options.seed);
  const corpus = buildCorpus(r, Math.max(1, Math.min(options.corpusSize ?? 512, options.count)));
  const scratch = new Uint8Array(SCRATCH_SIZE);
  const framer = new MessageFramer();
  const report: FuzzReport = { count: options.count, decoded: 0, rejected: 0, incomplete: 0, uncaught: 0 };
  for (let i = 0; i < options.count; i++) {
    const seed = corpus[r.int(corpus.length)] as Seed;
    scratch.set(seed.bytes);
    let length = seed.bytes.length;
    const rounds = 1 + r.int(4);
    for (let k = 0; k < rounds && length > 0; k++) length = mutateOnce(r, scratch, length);
    if (length >= 18 && r.chance(0.7)) {
      // Keep the header Length honest so the mutation reaches the body parsers.
      scratch[16] = length >> 8;
      scratch[17] = length & 0xff;
    }
    const input = scratch.subarray(0, length);
    // Mostly the negotiated context, sometimes the other AS width (a confused peer).
    const ctx = r.chance(0.85) ? seed.ctx : { ...seed.ctx, fourOctetAs: !seed.ctx.fourOctetAs };
    try {
      let verdict: Verdict;
      if (r.chance(0.125)) {
        verdict = classify(decodeMessage(input, ctx));
      } else {
        framer.reset();
        framer.maxMessageLength = ctx.extendedMessages ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
        verdict = runFramer(framer, input, r.chance(0.3) ? r.int(length) : 0, ctx);
      }
      report[verdict]++;
    } catch (err) {
      report.uncaught++;
      report.firstUncaught ??= { hex: toHex(input), error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
  }
  return report;
}
