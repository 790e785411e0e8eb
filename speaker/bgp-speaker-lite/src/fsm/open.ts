/**
 * Session configuration, the OPEN we send, and the checks on the OPEN we receive
 * (RFC 4271 6.2, as updated by RFC 6286 and RFC 6793), plus capability negotiation.
 * @packageDocumentation
 */

import {
  AS_TRANS,
  ErrorCode,
  OpenErrorSubcode,
  type AfiSafi,
  type Capabilities,
  type GracefulRestartFamily,
  type Negotiated,
  type NegotiatedCapabilities,
  type Notification,
  type OpenMessage,
  type SessionConfig,
  type SessionConfigInput,
} from './types.js';

/** The BGP version this speaker implements. */
export const BGP_VERSION = 4;

/** IPv4 unicast: the family a speaker without Multiprotocol capabilities implies (RFC 4760 8). */
export const IPV4_UNICAST: AfiSafi = { afi: 1, safi: 1 };

/** RFC 4271 10 suggests 90 s. */
const DEFAULT_HOLD_TIME_SEC = 90;
/**
 * RFC 4271 10 suggests a ConnectRetryTime of 120 s. A load balancer's speaker wants its routes
 * back within seconds of a router returning, so the first retry comes after 1 s and the delay
 * doubles per consecutive failure up to a 30 s cap; the backoff still keeps a dead peer from
 * being hammered.
 */
const DEFAULT_CONNECT_RETRY_MS = 1_000;
const DEFAULT_CONNECT_RETRY_MAX_MS = 30_000;
/** RFC 4271 8: "a large value ... A HoldTimer value of 4 minutes is suggested". */
const DEFAULT_LARGE_HOLD_TIME_MS = 240_000;

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/**
 * Fills in defaults and checks ranges. Throws `RangeError` on nonsense; configuration from users
 * is parsed (zod) at the boundary before it gets here.
 */
export function sessionConfig(input: SessionConfigInput): SessionConfig {
  const config: SessionConfig = {
    holdTimeSec: DEFAULT_HOLD_TIME_SEC,
    connectRetryMs: DEFAULT_CONNECT_RETRY_MS,
    connectRetryMaxMs: DEFAULT_CONNECT_RETRY_MAX_MS,
    largeHoldTimeMs: DEFAULT_LARGE_HOLD_TIME_MS,
    autoRestart: true,
    capabilities: { multiprotocol: [IPV4_UNICAST], routeRefresh: true },
    ...input,
  };
  const problems: string[] = [];
  if (!isU32(config.localAsn) || config.localAsn === 0) problems.push(`localAsn ${config.localAsn}`);
  const peer = config.peerAsn;
  if (peer !== 'internal' && peer !== 'external' && (!isU32(peer) || peer === 0)) problems.push(`peerAsn ${String(peer)}`);
  if (!isU32(config.localBgpId) || config.localBgpId === 0) problems.push(`localBgpId ${config.localBgpId}`);
  // RFC 4271 4.2: the Hold Time MUST be either zero or at least three seconds.
  const hold = config.holdTimeSec;
  if (!Number.isInteger(hold) || hold < 0 || hold > 0xffff || hold === 1 || hold === 2) problems.push(`holdTimeSec ${hold}`);
  if (!(config.connectRetryMs > 0)) problems.push(`connectRetryMs ${config.connectRetryMs}`);
  if (!(config.connectRetryMaxMs >= config.connectRetryMs)) problems.push(`connectRetryMaxMs ${config.connectRetryMaxMs}`);
  if (!(config.largeHoldTimeMs > 0)) problems.push(`largeHoldTimeMs ${config.largeHoldTimeMs}`);
  if (problems.length > 0) throw new RangeError(`invalid BGP session config: ${problems.join(', ')}`);
  return config;
}

/**
 * The retry delay after `failures` consecutive failures: `connectRetryMs * 2^(failures-1)`,
 * capped at `connectRetryMaxMs`; 0 for no failures.
 */
export function backoffMs(config: SessionConfig, failures: number): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 40);
  return Math.min(config.connectRetryMaxMs, config.connectRetryMs * 2 ** exponent);
}

/** The OPEN we send (RFC 4271 4.2; RFC 6793 4.1 for the AS fields). */
export function buildOpen(config: SessionConfig): OpenMessage {
  return {
    type: 'open',
    version: BGP_VERSION,
    asn: config.localAsn > 0xffff ? AS_TRANS : config.localAsn,
    holdTime: config.holdTimeSec,
    bgpId: config.localBgpId,
    capabilities: { ...config.capabilities, fourOctetAsn: config.localAsn },
  };
}

/** Why an OPEN was refused. */
export type OpenRejectReason = 'unsupportedVersion' | 'badPeerAs' | 'unacceptableHoldTime' | 'badBgpIdentifier';

/** Outcome of {@link checkOpen}. */
export type OpenCheck =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly reason: OpenRejectReason; readonly notification: Notification };

const openError = (reason: OpenRejectReason, subcode: number, data: Uint8Array = new Uint8Array(0)): OpenCheck => ({
  ok: false,
  reason,
  notification: { code: ErrorCode.OpenMessage, subcode, data },
});

/** The peer's real AS number: from the 4-octet AS capability when present (RFC 6793 4.1). */
export function peerAsnOf(open: OpenMessage): number {
  return open.capabilities.fourOctetAsn ?? open.asn;
}

/**
 * Checks a received OPEN against the configuration (RFC 4271 6.2), in the order 6.2 lists
 * them, and negotiates the session parameters. Never throws.
 */
export function checkOpen(open: OpenMessage, config: SessionConfig): OpenCheck {
  if (open.version !== BGP_VERSION) {
    // RFC 4271 6.2: the data is a 2-octet unsigned integer, the largest locally supported version.
    return openError('unsupportedVersion', OpenErrorSubcode.UnsupportedVersionNumber, Uint8Array.of(0, BGP_VERSION));
  }
  const peerAsn = peerAsnOf(open);
  const fourOctet = open.capabilities.fourOctetAsn;
  // RFC 6793 4.1: a 4-octet AS that fits in 2 octets is also carried in My AS, so they must agree.
  const asFieldsDisagree = fourOctet !== undefined && fourOctet <= 0xffff && open.asn !== fourOctet;
  const expected = config.peerAsn;
  const asnOk = expected === 'internal' ? peerAsn === config.localAsn : expected === 'external' ? peerAsn !== config.localAsn && peerAsn !== 0 : peerAsn === expected;
  if (!asnOk || asFieldsDisagree) {
    return openError('badPeerAs', OpenErrorSubcode.BadPeerAs);
  }
  // RFC 4271 6.2: a Hold Time of one or two seconds MUST be rejected.
  if (open.holdTime === 1 || open.holdTime === 2 || !Number.isInteger(open.holdTime) || open.holdTime < 0) {
    return openError('unacceptableHoldTime', OpenErrorSubcode.UnacceptableHoldTime);
  }
  const ibgp = config.localAsn === peerAsn;
  // RFC 6286 2.2: zero is never valid; equal to ours is invalid from an internal peer only
  // (identifiers need to be unique within an AS; an eBGP collision tie is broken by AS number).
  if (!isU32(open.bgpId) || open.bgpId === 0 || (ibgp && open.bgpId === config.localBgpId)) {
    return openError('badBgpIdentifier', OpenErrorSubcode.BadBgpIdentifier);
  }
  const holdTimeSec = Math.min(config.holdTimeSec, open.holdTime);
  return {
    ok: true,
    negotiated: {
      holdTimeSec,
      keepaliveMs: keepaliveMsFor(holdTimeSec),
      peerAsn,
      peerBgpId: open.bgpId,
      ibgp,
      ...negotiateCapabilities(buildOpen(config).capabilities, open.capabilities),
    },
  };
}

/** RFC 4271 10: KeepaliveTime is a third of the hold time; none when the hold time is 0. */
export function keepaliveMsFor(holdTimeSec: number): number {
  return holdTimeSec === 0 ? 0 : Math.floor((holdTimeSec * 1000) / 3);
}

const familyKey = (f: AfiSafi): string => `${f.afi}/${f.safi}`;

/** RFC 4760 8: a side that sends no Multiprotocol capability supports IPv4 unicast only. */
function familiesOf(caps: Capabilities): readonly AfiSafi[] {
  return caps.multiprotocol !== undefined && caps.multiprotocol.length > 0 ? caps.multiprotocol : [IPV4_UNICAST];
}

/**
 * Intersects our capabilities with the peer's. A capability is in use only when both sides
 * advertise it (RFC 5492); families in our order, without duplicates.
 */
export function negotiateCapabilities(local: Capabilities, remote: Capabilities): NegotiatedCapabilities {
  const remoteFamilies = new Set(familiesOf(remote).map(familyKey));
  const seen = new Set<string>();
  const families: AfiSafi[] = [];
  for (const f of familiesOf(local)) {
    const key = familyKey(f);
    if (remoteFamilies.has(key) && !seen.has(key)) {
      seen.add(key);
      families.push({ afi: f.afi, safi: f.safi });
    }
  }
  const base = {
    families,
    fourOctetAsn: local.fourOctetAsn !== undefined && remote.fourOctetAsn !== undefined,
    routeRefresh: local.routeRefresh === true && remote.routeRefresh === true,
    extendedMessage: local.extendedMessage === true && remote.extendedMessage === true,
  };
  const gr = remote.gracefulRestart;
  if (local.gracefulRestart === undefined || gr === undefined) return base;
  const grFamilies: GracefulRestartFamily[] = gr.families
    .filter((f) => seen.has(familyKey(f)))
    .map((f) => ({ afi: f.afi, safi: f.safi, forwardingPreserved: f.forwardingPreserved }));
  return {
    ...base,
    gracefulRestart: { peerRestartTimeSec: gr.restartTimeSec, peerRestarting: gr.restarting, families: grFamilies },
  };
}
