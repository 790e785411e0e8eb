/**
 * Packs routes into as few UPDATE messages as fit the negotiated maximum length.
 *
 * UPDATE size accounting (RFC 4271 §4.3, RFC 4760 §3-4):
 * ```
 * 19 header + 2 Withdrawn Routes Length + withdrawn prefixes
 *           + 2 Total Path Attribute Length + path attributes
 *           + NLRI prefixes                      (each prefix: 1 + ceil(length/8) octets)
 * MP_REACH_NLRI:   3 or 4 (flags, type, length) + | AFI (2) | SAFI (1) | NH len (1) | NH (16/32) | Reserved (1) | NLRI |
 * MP_UNREACH_NLRI: 3 or 4 (flags, type, length) + | AFI (2) | SAFI (1) | Withdrawn Routes |
 * ```
 * End-of-RIB (RFC 4724 §2): for IPv4 unicast an UPDATE with no withdrawn routes, no path
 * attributes and no NLRI (23 octets); for other families an UPDATE holding only an empty
 * MP_UNREACH_NLRI for the family.
 * @module
 */
import { BgpCodecError } from './errors.js';
import { encodePathAttributes } from './encode.js';
import { maxMessageLength } from './header.js';
import { prefixWireLength } from './prefix.js';
import type { Afi, CodecContext, MpReach, PathAttributes, Prefix, UpdateMessage } from './types.js';

/** A route to announce: the prefix and its path attributes. */
export interface RouteAdvertisement {
  prefix: Prefix;
  /**
   * For IPv4 prefixes the attributes as sent, with `nextHop` set (`mpReach`/`mpUnreach` ignored).
   * For IPv6 prefixes `mpReach` supplies the next hop(s) (its `nlri` is ignored) and
   * `nextHop`/`mpUnreach` are ignored (RFC 4760 §3: no NEXT_HOP without NLRI-field routes).
   */
  attrs: PathAttributes;
}

/** Session context for packing; `maxMessageLength` defaults to 4096, or 65535 with extended messages (RFC 8654). */
export interface PackContext extends CodecContext {
  maxMessageLength?: number;
}

const EMPTY_UPDATE_LENGTH = 23;

/** Attribute header octets for a value of `length` (RFC 4271 §4.3: Extended Length past 255). */
function attributeSize(valueLength: number): number {
  return (valueLength > 255 ? 4 : 3) + valueLength;
}

interface Group {
  afi: Afi;
  /** Attributes without the MP_REACH_NLRI of an IPv6 group. */
  base: PathAttributes;
  baseLength: number;
  /** IPv6: the MP_REACH_NLRI template (empty NLRI) and its empty value length. */
  reach: MpReach | undefined;
  reachEmptyValue: number;
  prefixes: Prefix[];
}

interface Draft {
  group: Group | undefined;
  fixed: number;
  nlri: Prefix[];
  nlriLength: number;
  /** MP_REACH_NLRI value length, or -1 without one. */
  reachValue: number;
  withdrawn: Prefix[];
  withdrawnLength: number;
  unreach: Prefix[];
  /** MP_UNREACH_NLRI value length, or -1 without one. */
  unreachValue: number;
}

function draftSize(d: Draft): number {
  return (
    d.fixed +
    d.nlriLength +
    d.withdrawnLength +
    (d.reachValue < 0 ? 0 : attributeSize(d.reachValue)) +
    (d.unreachValue < 0 ? 0 : attributeSize(d.unreachValue))
  );
}

function newDraft(group: Group | undefined): Draft {
  return {
    group,
    fixed: EMPTY_UPDATE_LENGTH + (group?.baseLength ?? 0),
    nlri: [],
    nlriLength: 0,
    reachValue: group?.reach === undefined ? -1 : group.reachEmptyValue,
    withdrawn: [],
    withdrawnLength: 0,
    unreach: [],
    unreachValue: -1,
  };
}

/** Adds an announced prefix if it fits. */
function tryAnnounce(d: Draft, prefix: Prefix, max: number): boolean {
  const size = prefixWireLength(prefix);
  if (d.reachValue < 0) {
    if (draftSize(d) + size > max) return false;
    d.nlri.push(prefix);
    d.nlriLength += size;
    return true;
  }
  d.reachValue += size;
  if (draftSize(d) > max) {
    d.reachValue -= size;
    return false;
  }
  d.nlri.push(prefix);
  return true;
}

/** Adds a withdrawn prefix (IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH_NLRI) if it fits. */
function tryWithdraw(d: Draft, prefix: Prefix, max: number): boolean {
  const size = prefixWireLength(prefix);
  if (prefix.afi === 'ipv4') {
    if (draftSize(d) + size > max) return false;
    d.withdrawn.push(prefix);
    d.withdrawnLength += size;
    return true;
  }
  const before = d.unreachValue;
  d.unreachValue = (before < 0 ? 3 : before) + size;
  if (draftSize(d) > max) {
    d.unreachValue = before;
    return false;
  }
  d.unreach.push(prefix);
  return true;
}

/** Identity of a prefix for de-duplication: a number for IPv4 (cheap), a string for IPv6. */
function prefixKey(prefix: Prefix): number | string {
  const b = prefix.bytes;
  if (prefix.afi === 'ipv4') return prefix.length * 0x100000000 + (b[0] ?? 0) * 0x1000000 + (((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0));
  return `${prefix.length}/${String.fromCharCode(...b)}`;
}

function groupTemplate(route: RouteAdvertisement): { base: PathAttributes; reach: MpReach | undefined } {
  const { mpReach, mpUnreach: _unreach, ...rest } = route.attrs;
  if (route.prefix.afi === 'ipv4') {
    if (rest.nextHop === undefined) throw new BgpCodecError('invalid-route', 'an IPv4 route needs attrs.nextHop');
    return { base: rest, reach: undefined };
  }
  if (mpReach === undefined || mpReach.afi !== 'ipv6') {
    throw new BgpCodecError('invalid-route', 'an IPv6 route needs attrs.mpReach (afi ipv6) for its next hop');
  }
  const { nextHop: _nextHop, ...v6 } = rest;
  const reach: MpReach = { afi: 'ipv6', nextHop: mpReach.nextHop, nlri: [] };
  if (mpReach.linkLocalNextHop !== undefined) reach.linkLocalNextHop = mpReach.linkLocalNextHop;
  return { base: v6, reach };
}

/** Groups routes by the canonical encoding of their attributes, in order of first appearance. */
function groupRoutes(routes: Iterable<RouteAdvertisement>, ctx: CodecContext): Group[] {
  const byKey = new Map<string, Group>();
  // Routes usually share attribute objects: encode each object once per family.
  const byObject: Array<Map<PathAttributes, Group>> = [new Map(), new Map()];
  for (const route of routes) {
    const cache = byObject[route.prefix.afi === 'ipv4' ? 0 : 1] as Map<PathAttributes, Group>;
    let group = cache.get(route.attrs);
    if (group === undefined) {
      const { base, reach } = groupTemplate(route);
      const baseBytes = encodePathAttributes(base, ctx);
      const reachBytes = reach === undefined ? new Uint8Array(0) : encodePathAttributes({ mpReach: reach }, ctx);
      const key = `${route.prefix.afi}|${Buffer.from(reachBytes).toString('latin1')}|${Buffer.from(baseBytes).toString('latin1')}`;
      group = byKey.get(key);
      if (group === undefined) {
        // The empty MP_REACH_NLRI value is short (< 255), so its header is 3 octets.
        const reachEmptyValue = reach === undefined ? 0 : reachBytes.length - 3;
        group = { afi: route.prefix.afi, base, baseLength: baseBytes.length, reach, reachEmptyValue, prefixes: [] };
        byKey.set(key, group);
      }
      cache.set(route.attrs, group);
    }
    group.prefixes.push(route.prefix);
  }
  return [...byKey.values()];
}

function toMessage(d: Draft): UpdateMessage {
  const attributes: PathAttributes = { ...(d.group?.base ?? {}) };
  const reach = d.group?.reach;
  if (reach !== undefined) attributes.mpReach = { ...reach, nlri: d.nlri };
  if (d.unreachValue >= 0) attributes.mpUnreach = { afi: 'ipv6', withdrawn: d.unreach };
  return { type: 'update', withdrawn: d.withdrawn, attributes, nlri: reach === undefined ? d.nlri : [] };
}

/**
 * Packs announcements and withdrawals into the fewest UPDATEs that fit `maxMessageLength`:
 * routes are grouped by identical attributes (their canonical encoding); each group's prefixes
 * fill NLRI (IPv4) or MP_REACH_NLRI (IPv6) until the next one would not fit; withdrawals then
 * fill the room left in those messages (Withdrawn Routes for IPv4, MP_UNREACH_NLRI for IPv6)
 * before new messages are started. A prefix announced more than once keeps its last
 * attributes; a prefix both announced and withdrawn is announced (the announcement replaces
 * the old route, RFC 4271 §3.1). Throws {@link BgpCodecError} when one route cannot fit a
 * message at all.
 */
export function packUpdates(routes: readonly RouteAdvertisement[], withdrawn: readonly Prefix[], ctx: PackContext): UpdateMessage[] {
  const limit = maxMessageLength(ctx.extendedMessages);
  const max = ctx.maxMessageLength ?? limit;
  if (!Number.isInteger(max) || max < EMPTY_UPDATE_LENGTH + 5 || max > limit) {
    throw new BgpCodecError('value-out-of-range', `maxMessageLength ${max} is not in ${EMPTY_UPDATE_LENGTH + 5}..${limit}`);
  }
  const latest = new Map<number | string, RouteAdvertisement>();
  for (const route of routes) latest.set(prefixKey(route.prefix), route);
  const drafts: Draft[] = [];
  for (const group of groupRoutes(latest.values(), ctx)) {
    let draft = newDraft(group);
    for (const prefix of group.prefixes) {
      if (tryAnnounce(draft, prefix, max)) continue;
      if (draft.nlri.length === 0) {
        throw new BgpCodecError('message-too-long', `attributes of ${group.afi} routes leave no room for NLRI in ${max} octets`);
      }
      drafts.push(draft);
      draft = newDraft(group);
      if (!tryAnnounce(draft, prefix, max)) {
        throw new BgpCodecError('message-too-long', `attributes of ${group.afi} routes leave no room for NLRI in ${max} octets`);
      }
    }
    drafts.push(draft);
  }
  // One cursor per family: IPv4 and IPv6 withdrawals use different room in a message.
  const cursors = { ipv4: 0, ipv6: 0 };
  for (const prefix of withdrawn) {
    if (latest.has(prefixKey(prefix))) continue;
    let cursor = cursors[prefix.afi];
    while (cursor < drafts.length && !tryWithdraw(drafts[cursor] as Draft, prefix, max)) cursor++;
    if (cursor === drafts.length) {
      const draft = newDraft(undefined);
      tryWithdraw(draft, prefix, max);
      drafts.push(draft);
    }
    cursors[prefix.afi] = cursor;
  }
  return drafts.map(toMessage);
}

/** The End-of-RIB marker of a family (RFC 4724 §2). */
export function endOfRib(afi: Afi): UpdateMessage {
  const attributes: PathAttributes = afi === 'ipv4' ? {} : { mpUnreach: { afi, withdrawn: [] } };
  return { type: 'update', withdrawn: [], attributes, nlri: [] };
}

/** The family an UPDATE marks End-of-RIB for (RFC 4724 §2), or undefined when it is not a marker. */
export function isEndOfRib(update: UpdateMessage): Afi | undefined {
  if (update.withdrawn.length > 0 || update.nlri.length > 0) return undefined;
  const keys = Object.keys(update.attributes);
  if (keys.length === 0) return 'ipv4';
  const unreach = update.attributes.mpUnreach;
  if (keys.length === 1 && unreach !== undefined && unreach.withdrawn.length === 0) return unreach.afi;
  return undefined;
}
