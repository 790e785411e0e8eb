/**
 * What `bgp-lite` prints: one JSON object per line, each with an `event` key. Pure views of the
 * peer's events and state; numbers stay numbers, octets become hex, and NOTIFICATION codes get
 * their RFC names so a person reading a router's complaint does not need the tables.
 * @packageDocumentation
 */

import {
  CeaseSubcode,
  ErrorCode,
  FsmErrorSubcode,
  MessageHeaderSubcode,
  OpenMessageSubcode,
  RouteRefreshSubcode,
  UpdateMessageSubcode,
} from '../codec/constants.js';
import { formatCommunity, formatIpv4 } from '../codec/prefix.js';
import type * as fsm from '../fsm/index.js';
import type { RibRoute } from '../peer/adjribout.js';
import type { PeerCounters, PeerDown, PeerStateChange } from '../peer/peer.js';

/** One output line before serialisation. */
export type OutputEvent = { readonly event: string } & Readonly<Record<string, unknown>>;

/** `MESSAGE_HEADER_ERROR` → `message-header-error`. */
const kebab = (name: string): string => name.toLowerCase().replaceAll('_', '-');

function invert(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([name, value]) => [value, kebab(name)]));
}

const CODE_NAMES = invert(ErrorCode);
const SUBCODE_NAMES: ReadonlyMap<number, ReadonlyMap<number, string>> = new Map([
  [ErrorCode.MESSAGE_HEADER_ERROR, invert(MessageHeaderSubcode)],
  [ErrorCode.OPEN_MESSAGE_ERROR, invert(OpenMessageSubcode)],
  [ErrorCode.UPDATE_MESSAGE_ERROR, invert(UpdateMessageSubcode)],
  [ErrorCode.FINITE_STATE_MACHINE_ERROR, invert(FsmErrorSubcode)],
  [ErrorCode.CEASE, invert(CeaseSubcode)],
  [ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR, invert(RouteRefreshSubcode)],
]);

/** `message-header-error/bad-message-length`; numbers where the code is not known. */
export function notificationName(code: number, subcode: number): string {
  const codeName = CODE_NAMES.get(code) ?? `code-${code}`;
  // RFC 4271 §4.5: Hold Timer Expired has no subcodes.
  if (code === ErrorCode.HOLD_TIMER_EXPIRED && subcode === 0) return codeName;
  return `${codeName}/${SUBCODE_NAMES.get(code)?.get(subcode) ?? `subcode-${subcode}`}`;
}

const hex = (data: Uint8Array): string => Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 9003 §2 Shutdown Communication of a Cease/Administrative Shutdown or Reset, if valid. */
function shutdownCommunication(n: fsm.Notification): string | undefined {
  const isShutdown = n.subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || n.subcode === CeaseSubcode.ADMINISTRATIVE_RESET;
  const length = n.data[0];
  if (n.code !== ErrorCode.CEASE || !isShutdown || length === undefined || length === 0 || 1 + length > n.data.length) return undefined;
  try {
    return utf8.decode(n.data.subarray(1, 1 + length));
  } catch {
    // RFC 9003 §2: invalid UTF-8 is not interpreted; the raw data is in `data`.
    return undefined;
  }
}

export function notificationView(n: fsm.Notification): Record<string, unknown> {
  const text = shutdownCommunication(n);
  return { code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), data: hex(n.data), ...(text !== undefined ? { shutdownCommunication: text } : {}) };
}

const FAMILY_NAMES: Readonly<Record<string, string>> = { '1/1': 'ipv4-unicast', '2/1': 'ipv6-unicast' };
const familyName = (f: fsm.AfiSafi): string => FAMILY_NAMES[`${f.afi}/${f.safi}`] ?? `afi-${f.afi}/safi-${f.safi}`;

export function negotiatedView(n: fsm.Negotiated): Record<string, unknown> {
  return {
    peerAsn: n.peerAsn,
    peerBgpId: formatIpv4(Uint8Array.of(n.peerBgpId >>> 24, (n.peerBgpId >>> 16) & 0xff, (n.peerBgpId >>> 8) & 0xff, n.peerBgpId & 0xff)),
    holdTimeSec: n.holdTimeSec,
    keepaliveMs: n.keepaliveMs,
    ibgp: n.ibgp,
    families: n.families.map(familyName),
    fourOctetAsn: n.fourOctetAsn,
    routeRefresh: n.routeRefresh,
    extendedMessage: n.extendedMessage,
    ...(n.gracefulRestart !== undefined ? { gracefulRestart: { ...n.gracefulRestart, families: n.gracefulRestart.families.map(familyName) } } : {}),
  };
}

export function routeView(r: RibRoute): Record<string, unknown> {
  return {
    prefix: r.key,
    nextHop: r.nextHop,
    ...(r.communities.length > 0 ? { communities: r.communities.map(formatCommunity) } : {}),
    ...(r.largeCommunities.length > 0 ? { largeCommunities: r.largeCommunities.map((c) => c.join(':')) } : {}),
    ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
    ...(r.med !== undefined ? { med: r.med } : {}),
  };
}

export const stateEvent = (c: PeerStateChange): OutputEvent => ({ event: 'state', from: c.from, to: c.to, trigger: c.event });

export const establishedEvent = (n: fsm.Negotiated): OutputEvent => ({ event: 'established', ...negotiatedView(n) });

export const downEvent = (d: PeerDown): OutputEvent => ({
  event: 'down',
  from: d.from,
  reason: d.reason,
  ...(d.notification !== undefined ? { notification: notificationView(d.notification) } : {}),
});

/** What `show` prints. */
export interface PeerSnapshot {
  readonly state: fsm.SessionStateName;
  readonly negotiated: fsm.Negotiated | undefined;
  readonly counters: Readonly<PeerCounters>;
  readonly routes: readonly RibRoute[];
}

export const showEvent = (s: PeerSnapshot): OutputEvent => ({
  event: 'show',
  state: s.state,
  negotiated: s.negotiated === undefined ? null : negotiatedView(s.negotiated),
  counters: { ...s.counters },
  routes: s.routes.map(routeView),
});

export const errorEvent = (error: string): OutputEvent => ({ event: 'error', error });

/** One line of output, newline included. */
export function line(e: OutputEvent): string {
  return `${JSON.stringify(e)}\n`;
}
