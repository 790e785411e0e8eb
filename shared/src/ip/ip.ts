/**
 * IP address math on bigints: IPv4 and IPv6 alike, any range size, exact.
 * Text forms follow Go's net/netip (what Kubernetes validates with): IPv4 is
 * dotted decimal without leading zeros; IPv6 is RFC 4291 section 2.2 text,
 * formatted canonically per RFC 5952; zones are not addresses and are refused.
 */

export type Family = 4 | 6;

/** One address: family and its value as an unsigned integer. */
export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface IPRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

export const BITS: Readonly<Record<Family, number>> = { 4: 32, 6: 128 };
const MAX: Readonly<Record<Family, bigint>> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // Go's netip refuses leading zeros: "010" could be octal to some parsers.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.length < 2 || s.includes('%')) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    // RFC 4291 2.2 (3): the low 32 bits may be written as dotted decimal.
    tailV4 = parseV4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.indexOf('::');
  if (dbl !== -1 && head.indexOf('::', dbl + 1) !== -1) return undefined;
  const groupsOf = (t: string): string[] | undefined => {
    if (t === '') return [];
    const g = t.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g : undefined;
  };
  let groups: string[];
  if (dbl === -1) {
    const g = groupsOf(head);
    if (!g || g.length !== 8) return undefined;
    groups = g;
  } else {
    const left = groupsOf(head.slice(0, dbl));
    const right = groupsOf(head.slice(dbl + 2));
    if (!left || !right || left.length + right.length > 7) return undefined;
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

/** Parses an IPv4 or IPv6 address; undefined when `s` is not one. */
export function parseIP(s: string): IP | undefined {
  if (s.includes(':')) {
    const v = parseV6(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** Canonical text: dotted decimal, or RFC 5952 (lower case, longest zero run of 2+ groups as ::). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 4.2.3: compress the longest run of zero groups; the first on a tie; never a single group.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart === -1) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Parses and re-formats; undefined when not an address. */
export function canonicalIP(s: string): string | undefined {
  const ip = parseIP(s);
  return ip && formatIP(ip);
}

export function ipKey(ip: IP): string {
  return formatIP(ip);
}

/** Number of addresses in a range (exact, any size). */
export function rangeSize(r: IPRange): bigint {
  return r.last - r.first + 1n;
}

export function rangeContains(r: IPRange, ip: IP): boolean {
  return r.family === ip.family && ip.value >= r.first && ip.value <= r.last;
}

export function rangesOverlap(a: IPRange, b: IPRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** Why a pool address entry was refused. */
export type AddressParseError = { readonly reason: 'InvalidAddress'; readonly message: string };

/**
 * Parses one `IPAddressPool.spec.addresses` entry: a CIDR (`10.0.0.0/24`, host
 * bits allowed and masked off, as Go's net.ParseCIDR does) or a range
 * `first-last` of one family with first <= last.
 */
export function parsePoolAddress(entry: string): IPRange | AddressParseError {
  const s = entry.trim();
  const bad = (why: string): AddressParseError => ({ reason: 'InvalidAddress', message: `"${entry}": ${why}` });
  const slash = s.indexOf('/');
  if (slash !== -1) {
    const ip = parseIP(s.slice(0, slash));
    const lenText = s.slice(slash + 1);
    if (!ip) return bad('not a CIDR: the part before "/" is not an IP address');
    if (!/^(0|[1-9]\d{0,2})$/.test(lenText)) return bad('not a CIDR: the prefix length is not a number');
    const len = Number(lenText);
    const bits = BITS[ip.family];
    if (len > bits) return bad(`prefix length ${len} exceeds ${bits}`);
    const host = (1n << BigInt(bits - len)) - 1n;
    const first = ip.value & (MAX[ip.family] ^ host);
    return { family: ip.family, first, last: first | host };
  }
  const dash = s.indexOf('-');
  if (dash === -1) return bad('expected a CIDR (a.b.c.d/n) or a range (first-last)');
  const a = parseIP(s.slice(0, dash).trim());
  const b = parseIP(s.slice(dash + 1).trim());
  if (!a || !b) return bad('a range must be two IP addresses separated by "-"');
  if (a.family !== b.family) return bad('a range must not mix IPv4 and IPv6');
  if (a.value > b.value) return bad(`range start ${formatIP(a)} is after its end ${formatIP(b)}`);
  return { family: a.family, first: a.value, last: b.value };
}

export function isAddressParseError(x: IPRange | AddressParseError): x is AddressParseError {
  return 'reason' in x;
}

/** Text of a range, for messages: CIDR when it is exactly one, else first-last. */
export function formatRange(r: IPRange): string {
  const size = rangeSize(r);
  const bits = BITS[r.family];
  if ((size & (size - 1n)) === 0n && (r.first & (size - 1n)) === 0n) {
    const len = bits - (size.toString(2).length - 1);
    return `${formatIP({ family: r.family, value: r.first })}/${len}`;
  }
  return `${formatIP({ family: r.family, value: r.first })}-${formatIP({ family: r.family, value: r.last })}`;
}
