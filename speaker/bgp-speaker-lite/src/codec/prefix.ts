/**
 * IP addresses, prefixes and communities in text form, and the NLRI prefix encoding.
 *
 * NLRI / Withdrawn Routes entry (RFC 4271 §4.3; the same in MP_(UN)REACH_NLRI, RFC 4760 §5):
 * ```
 * +---------------------------+
 * |   Length (1 octet, bits)  |
 * +---------------------------+
 * |   Prefix (ceil(Length/8)) |   trailing bits past Length are irrelevant
 * +---------------------------+
 * ```
 * @module
 */
import { BgpCodecError } from './errors.js';
import type { Afi, Prefix } from './types.js';

/** Octets of an address of each family. */
export function addressLength(afi: Afi): 4 | 16 {
  return afi === 'ipv4' ? 4 : 16;
}

/** Strict dotted quad: four decimal octets without leading zeros (no octal ambiguity). */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

/** Dotted quad of the 4 octets at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

function parseHexGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  for (const group of text.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
    out.push(parseInt(group, 16));
  }
  return true;
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted quad. No zone index. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let body = text;
  const dottedQuad: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (body.includes('.', lastColon)) {
    const v4 = parseIpv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    dottedQuad.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head: number[] = [];
  const rest: number[] = [];
  if (!parseHexGroups(halves[0] ?? '', head)) return undefined;
  if (halves.length === 2 && !parseHexGroups(halves[1] ?? '', rest)) return undefined;
  (halves.length === 2 ? rest : head).push(...dottedQuad);
  const total = head.length + rest.length;
  // "::" stands for one or more zero groups.
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const word = words[i] ?? 0;
    out[2 * i] = word >> 8;
    out[2 * i + 1] = word & 0xff;
  }
  return out;
}

/**
 * RFC 5952 §4 canonical text of the 16 octets at `offset`: lower case, longest zero run
 * (>= 2 groups) as `::`; IPv4-mapped addresses end in a dotted quad (RFC 5952 §5).
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  if (words[5] === 0xffff && words.slice(0, 5).every((w) => w === 0)) return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Parses an IPv4 or IPv6 address. */
export function parseAddress(text: string): { afi: Afi; bytes: Uint8Array } | undefined {
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (bytes === undefined) return undefined;
  return { afi: bytes.length === 4 ? 'ipv4' : 'ipv6', bytes };
}

/** Formats the address of `afi` at `offset`. */
export function formatAddress(afi: Afi, bytes: Uint8Array, offset = 0): string {
  return afi === 'ipv4' ? formatIpv4(bytes, offset) : formatIpv6(bytes, offset);
}

/**
 * Parses `'192.0.2.0/24'` or `'2001:db8::/32'`; a bare address is a host prefix (/32, /128).
 * Throws {@link BgpCodecError} `invalid-prefix` on bad text or bits set past the length.
 */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === undefined) throw new BgpCodecError('invalid-prefix', `invalid prefix ${JSON.stringify(text)}: bad address`);
  const maxBits = address.bytes.length * 8;
  let length = maxBits;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > maxBits) {
      throw new BgpCodecError('invalid-prefix', `invalid prefix ${JSON.stringify(text)}: length must be 0..${maxBits}`);
    }
    length = Number(lengthText);
  }
  const prefix: Prefix = { afi: address.afi, length, bytes: address.bytes };
  if (!isCanonical(prefix)) {
    throw new BgpCodecError('invalid-prefix', `invalid prefix ${JSON.stringify(text)}: host bits set past /${length}`);
  }
  return prefix;
}

/** `192.0.2.0/24` form of a prefix. */
export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix.afi, prefix.bytes)}/${prefix.length}`;
}

/** True when every bit past the prefix length is zero and the byte count matches the family. */
export function isCanonical(prefix: Prefix): boolean {
  const { bytes, length } = prefix;
  if (bytes.length !== addressLength(prefix.afi) || length < 0 || length > bytes.length * 8 || !Number.isInteger(length)) return false;
  const full = length >> 3;
  const rem = length & 7;
  if (rem !== 0 && ((bytes[full] ?? 0) & (0xff >> rem)) !== 0) return false;
  for (let i = rem === 0 ? full : full + 1; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Same family, length and address. */
export function prefixEquals(a: Prefix, b: Prefix): boolean {
  if (a.afi !== b.afi || a.length !== b.length) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

/** Octets one prefix takes in NLRI: length octet + ceil(length / 8). */
export function prefixWireLength(prefix: Prefix): number {
  return 1 + ((prefix.length + 7) >> 3);
}

/**
 * Reads NLRI entries in `[start, end)` into `out`. Returns false when the field is
 * syntactically incorrect (RFC 7606 §5.3: a length beyond the family's maximum, or an entry
 * overrunning the field). Trailing bits past the length are cleared (RFC 4271 §4.3).
 */
export function readPrefixes(buf: Uint8Array, start: number, end: number, afi: Afi, out: Prefix[]): boolean {
  const size = afi === 'ipv4' ? 4 : 16;
  const maxBits = size * 8;
  let p = start;
  while (p < end) {
    const length = buf[p] ?? 0;
    if (length > maxBits) return false;
    const n = (length + 7) >> 3;
    if (p + 1 + n > end) return false;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < n; i++) bytes[i] = buf[p + 1 + i] ?? 0;
    if ((length & 7) !== 0) bytes[n - 1] = (bytes[n - 1] ?? 0) & (0xff << (8 - (length & 7)));
    out.push({ afi, length, bytes });
    p += 1 + n;
  }
  return true;
}

/** Formats a COMMUNITIES value (RFC 1997 §4) as `asn:value`. */
export function formatCommunity(community: number): string {
  return `${Math.floor(community / 0x10000)}:${community & 0xffff}`;
}

/** Parses `'65535:0'` into the u32 COMMUNITIES value (RFC 1997 §4). */
export function parseCommunity(text: string): number {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  const high = Number(m?.[1]);
  const low = Number(m?.[2]);
  if (m === null || high > 0xffff || low > 0xffff) {
    throw new BgpCodecError('invalid-community', `invalid community ${JSON.stringify(text)}: want asn:value, each 0..65535`);
  }
  return high * 0x10000 + low;
}
