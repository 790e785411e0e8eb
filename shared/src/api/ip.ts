/**
 * IP text as the kube-apiserver's CEL `isIP()`/`ip()`/`isCIDR()`/`cidr()` read it, so that the
 * zod twins of the CRD rules accept exactly what admission accepts. Built on shared/ip (Go
 * net/netip text rules: no leading zeros, no zones), plus the one thing Kubernetes' CEL
 * library adds: IPv4-mapped IPv6 addresses (`::ffff:0:0/96`, RFC 4291 2.5.5.2) are refused.
 * CIDRs keep host bits (`10.0.0.1/24` is accepted), as `netip.ParsePrefix` and MetalLB do.
 * @packageDocumentation
 */
import { BITS, parseIP } from '../ip/index.js';
import type { IP, IPRange } from '../ip/index.js';

/** A CIDR as CEL's `cidr()` holds it: the address as written and the prefix length. */
export interface CelCIDR {
  readonly ip: IP;
  readonly prefixLength: number;
}

function isV4Mapped(ip: IP): boolean {
  return ip.family === 6 && ip.value >> 32n === 0xffffn;
}

/** CEL `ip(text)`: the address, or `undefined` where CEL would fail. */
export function celParseIP(text: string): IP | undefined {
  const ip = parseIP(text);
  return ip === undefined || isV4Mapped(ip) ? undefined : ip;
}

/** CEL `isIP(text)`. */
export function celIsIP(text: string): boolean {
  return celParseIP(text) !== undefined;
}

/** CEL `cidr(text)`: the CIDR, or `undefined` where CEL would fail. */
export function celParseCIDR(text: string): CelCIDR | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = celParseIP(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  // netip.ParsePrefix: decimal, no sign, no leading zeros.
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  return prefixLength > BITS[ip.family] ? undefined : { ip, prefixLength };
}

/** CEL `isCIDR(text)`. */
export function celIsCIDR(text: string): boolean {
  return celParseCIDR(text) !== undefined;
}

/** The addresses a CIDR covers, host bits ignored. */
export function cidrRange(cidr: CelCIDR): IPRange {
  const hostBits = BigInt(BITS[cidr.ip.family] - cidr.prefixLength);
  const first = (cidr.ip.value >> hostBits) << hostBits;
  return { family: cidr.ip.family, first, last: first + (1n << hostBits) - 1n };
}

/** The two ends of a pool entry `start-end`, each `undefined` when not an IP. */
export interface PoolRangeEnds {
  readonly start: IP | undefined;
  readonly end: IP | undefined;
}

/**
 * Splits a pool entry `start-end` as the CRD rule does: exactly one `-`
 * (`split('-').size() == 2`), each side trimmed (MetalLB's `strings.TrimSpace`).
 * @returns `undefined` when the text does not have exactly one `-`.
 */
export function splitPoolRange(text: string): PoolRangeEnds | undefined {
  const parts = text.split('-');
  if (parts.length !== 2) return undefined;
  return { start: celParseIP((parts[0] ?? '').trim()), end: celParseIP((parts[1] ?? '').trim()) };
}

/**
 * The addresses a pool entry covers, when the CRD rules accept the entry and the range does
 * not run backwards.
 */
export function poolEntryRange(entry: string): IPRange | undefined {
  const cidr = celParseCIDR(entry);
  if (cidr !== undefined) return cidrRange(cidr);
  const ends = splitPoolRange(entry);
  if (ends?.start === undefined || ends.end === undefined) return undefined;
  if (ends.start.family !== ends.end.family || ends.start.value > ends.end.value) return undefined;
  return { family: ends.start.family, first: ends.start.value, last: ends.end.value };
}
