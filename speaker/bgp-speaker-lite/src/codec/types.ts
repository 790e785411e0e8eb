/**
 * The message model of the codec: one TypeScript type per BGP message (RFC 4271 §4), the
 * path attributes as a typed object, and the decode outcomes of RFC 4271 §6 and RFC 7606.
 *
 * Message bodies after the 19-octet header (RFC 4271 §4.2-4.5, RFC 2918 §3):
 * ```
 * OPEN          | Version (1) | My AS (2) | Hold Time (2) | BGP Identifier (4) |
 *               | Opt Parm Len (1) | Optional Parameters (variable) |
 * UPDATE        | Withdrawn Routes Length (2) | Withdrawn Routes (variable) |
 *               | Total Path Attribute Length (2) | Path Attributes (variable) |
 *               | Network Layer Reachability Information (variable) |
 * NOTIFICATION  | Error code (1) | Error subcode (1) | Data (variable) |
 * KEEPALIVE     (no body)
 * ROUTE-REFRESH | AFI (2) | Reserved / Message Subtype (1) | SAFI (1) |
 * ```
 * @module
 */

/** The address families whose prefixes this codec parses (IPv4 and IPv6 unicast). */
export type Afi = 'ipv4' | 'ipv6';

/**
 * An IP prefix as carried in NLRI (RFC 4271 §4.3): the address family, the prefix length in
 * bits, and the full address (4 or 16 octets) with every bit past `length` zero.
 * Build one with `parsePrefix('192.0.2.0/24')`; print it with `formatPrefix`.
 */
export interface Prefix {
  readonly afi: Afi;
  readonly length: number;
  readonly bytes: Uint8Array;
}

/** An AFI/SAFI pair as numbers on the wire (RFC 4760 §5), so unknown families survive decoding. */
export interface Family {
  afi: number;
  safi: number;
}

/** Graceful Restart capability value (RFC 4724 §3; the N bit is RFC 8538 §2). */
export interface GracefulRestartCapability {
  /** R bit: the sender has restarted. */
  restartState: boolean;
  /** N bit (RFC 8538): the sender supports Graceful Restart for BGP NOTIFICATION messages. */
  notification: boolean;
  /** Seconds (12 bits, 0..4095) the peer should wait for the session to come back. */
  restartTime: number;
  /** Per AFI/SAFI: was forwarding state preserved across the restart (F bit)? */
  families: Array<Family & { forwardingState: boolean }>;
}

/** A capability this codec does not interpret, kept as its code and value octets (RFC 5492 §4). */
export interface RawCapability {
  code: number;
  value: Uint8Array;
}

/**
 * The capabilities of an OPEN (RFC 5492). Known ones are typed; the rest are kept in `unknown`.
 * The 4-octet AS number itself lives in {@link OpenMessage.asn}.
 */
export interface Capabilities {
  /** Multiprotocol Extensions (RFC 4760 §8), one entry per advertised AFI/SAFI. */
  multiprotocol: Family[];
  /** Route Refresh (RFC 2918 §2). */
  routeRefresh: boolean;
  /** Extended Message (RFC 8654 §3). */
  extendedMessage: boolean;
  /** Support for 4-octet AS numbers (RFC 6793 §3); the value carried is `OpenMessage.asn`. */
  fourOctetAs: boolean;
  /** Graceful Restart (RFC 4724 §3). */
  gracefulRestart?: GracefulRestartCapability;
  /** Capabilities this codec does not interpret, in the order received. */
  unknown: RawCapability[];
}

/** OPEN (RFC 4271 §4.2). */
export interface OpenMessage {
  type: 'open';
  /**
   * The sender's AS number. Decoding takes it from the 4-octet AS capability when present
   * (RFC 6793 §4.1), else from My AS; encoding writes AS_TRANS into My AS when it exceeds 65535.
   */
  asn: number;
  /** Seconds; 0 or at least 3 (RFC 4271 §4.2). */
  holdTime: number;
  /** BGP Identifier in dotted-quad form (RFC 4271 §4.2, RFC 6286). */
  bgpId: string;
  capabilities: Capabilities;
}

/** ORIGIN (RFC 4271 §5.1.1). */
export type Origin = 'igp' | 'egp' | 'incomplete';

/** AS_PATH segment types (RFC 4271 §4.3, RFC 5065 §3). */
export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

/** One AS_PATH / AS4_PATH segment: 1..255 AS numbers. */
export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

/** AGGREGATOR / AS4_AGGREGATOR (RFC 4271 §5.1.7, RFC 6793 §3). */
export interface Aggregator {
  asn: number;
  /** IPv4 address of the aggregating speaker. */
  address: string;
}

/** A BGP Large Community (RFC 8092 §3): Global Administrator, Local Data Part 1, Local Data Part 2. */
export type LargeCommunity = readonly [number, number, number];

/**
 * MP_REACH_NLRI for IPv4/IPv6 unicast (RFC 4760 §3). The next hop is 4 octets (IPv4), 16 (one
 * IPv6 global address) or 32 (global + link-local, RFC 2545 §3).
 */
export interface MpReach {
  afi: Afi;
  /** IPv4 or IPv6 address (an IPv6 next hop for IPv4 NLRI is RFC 8950). */
  nextHop: string;
  /** The IPv6 link-local next hop of a 32-octet next-hop field. */
  linkLocalNextHop?: string;
  nlri: Prefix[];
}

/** MP_UNREACH_NLRI for IPv4/IPv6 unicast (RFC 4760 §4). */
export interface MpUnreach {
  afi: Afi;
  withdrawn: Prefix[];
}

/**
 * A path attribute kept as received: flags octet, type code and value. Unknown optional
 * attributes land here (RFC 4271 §5), as do MP_REACH/MP_UNREACH of families this codec does
 * not parse. Whether to re-advertise them (transitive ones with the Partial bit set) is the
 * caller's decision.
 */
export interface RawAttribute {
  flags: number;
  typeCode: number;
  value: Uint8Array;
}

/** The path attributes of an UPDATE (RFC 4271 §5). Absent properties were not in the message. */
export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  /** NEXT_HOP (IPv4 dotted quad). */
  nextHop?: string;
  /** MULTI_EXIT_DISC (u32). */
  med?: number;
  /** LOCAL_PREF (u32). */
  localPref?: number;
  atomicAggregate?: true;
  aggregator?: Aggregator;
  /** COMMUNITIES (RFC 1997) as u32 values, high 16 bits the AS (see `formatCommunity`). */
  communities?: number[];
  /** LARGE_COMMUNITY (RFC 8092). */
  largeCommunities?: LargeCommunity[];
  /** AS4_PATH (RFC 6793 §3), only meaningful on sessions without 4-octet AS support. */
  as4Path?: AsPathSegment[];
  /** AS4_AGGREGATOR (RFC 6793 §3), only meaningful on sessions without 4-octet AS support. */
  as4Aggregator?: Aggregator;
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** Attributes this codec does not interpret, in the order received. */
  unknown?: RawAttribute[];
}

/** UPDATE (RFC 4271 §4.3). `withdrawn` and `nlri` hold IPv4 prefixes only; IPv6 uses MP_(UN)REACH_NLRI. */
export interface UpdateMessage {
  type: 'update';
  withdrawn: Prefix[];
  attributes: PathAttributes;
  nlri: Prefix[];
}

/** NOTIFICATION (RFC 4271 §4.5). */
export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  /** The Data field as on the wire. */
  data: Uint8Array;
  /**
   * The Shutdown Communication of Cease/Administrative Shutdown or Reset (RFC 9003 §2), when
   * `data` carries a non-empty, valid one. When set and `data` does not start with it, the
   * encoder writes the data from it (length octet + UTF-8).
   */
  shutdownCommunication?: string;
}

/** KEEPALIVE (RFC 4271 §4.4). */
export interface KeepaliveMessage {
  type: 'keepalive';
}

/** ROUTE-REFRESH (RFC 2918 §3; the reserved octet is the Message Subtype of RFC 7313 §3.2). */
export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** 0 = normal route refresh; 1 = BoRR, 2 = EoRR (RFC 7313). */
  subtype: number;
}

/** Any BGP message. */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** What the session negotiated, which changes how messages are laid out. */
export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability (RFC 6793 §4): AS_PATH and AGGREGATOR carry 4-octet AS numbers. */
  fourOctetAs: boolean;
  /** Both sides advertised the Extended Message capability (RFC 8654): messages other than OPEN and KEEPALIVE may reach 65535 octets. */
  extendedMessages: boolean;
}
/** The session context the decoder reads messages in. */
export type DecodeContext = CodecContext;
/** The session context the encoder writes messages for. */
export type EncodeContext = CodecContext;

/** Why a message ends the session (the NOTIFICATION explains it to the peer; this names it for logs). */
export type SessionResetReason =
  | 'connection-not-synchronized'
  | 'bad-message-length'
  | 'bad-message-type'
  | 'unsupported-version'
  | 'bad-peer-as'
  | 'bad-bgp-identifier'
  | 'unacceptable-hold-time'
  | 'unsupported-optional-parameter'
  | 'malformed-optional-parameters'
  | 'malformed-capability'
  | 'malformed-attribute-list'
  | 'invalid-network-field'
  | 'unrecognized-well-known-attribute'
  | 'duplicate-mp-attribute'
  | 'malformed-mp-reach'
  | 'malformed-mp-unreach'
  | 'invalid-route-refresh-length';

/**
 * Why a path attribute was found in error (RFC 7606 §7, RFC 6793 §6, RFC 7607 §2).
 * `confed-segment-in-as4-path` drops only those segments; the rest of AS4_PATH is kept.
 */
export type AttributeErrorReason =
  | 'flags-conflict'
  | 'bad-length'
  | 'invalid-value'
  | 'malformed-as-path'
  | 'as-zero'
  | 'confed-segment-in-as4-path'
  | 'as4-attribute-from-new-speaker'
  | 'duplicate'
  | 'attribute-overrun'
  | 'missing-well-known';

/** The RFC 7606 §2 approaches, from weakest to strongest. */
export type ErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

/** One attribute error found in an UPDATE, with the approach RFC 7606 assigns to it. */
export interface AttributeError {
  typeCode: number;
  action: ErrorAction;
  reason: AttributeErrorReason;
}

/** The message decoded cleanly. */
export interface DecodeOk {
  ok: true;
  outcome: 'ok';
  message: BgpMessage;
}

/** RFC 7606 "attribute discard": the listed attributes were dropped; the rest of the UPDATE stands. */
export interface DecodeAttributeDiscard {
  ok: true;
  outcome: 'attribute-discard';
  message: UpdateMessage;
  errors: AttributeError[];
}

/**
 * RFC 7606 "treat-as-withdraw": every prefix of the UPDATE (withdrawn routes, NLRI,
 * MP_REACH_NLRI and MP_UNREACH_NLRI) must be withdrawn; the session stays up.
 */
export interface DecodeTreatAsWithdraw {
  ok: false;
  outcome: 'treat-as-withdraw';
  withdrawn: Prefix[];
  errors: AttributeError[];
}

/**
 * RFC 4271 §6 "session reset": send `notification`, then close the connection. When the error
 * is confined to MP_REACH/MP_UNREACH of one `family`, RFC 7606 §2 and RFC 4760 §7 allow the
 * "AFI/SAFI disable" approach instead.
 */
export interface DecodeSessionReset {
  ok: false;
  outcome: 'session-reset';
  reason: SessionResetReason;
  notification: NotificationMessage;
  family?: Family;
  errors: AttributeError[];
}

/** What {@link decodeMessage} makes of one message; `outcome` names the RFC 4271 §6 / RFC 7606 approach. */
export type DecodeResult = DecodeOk | DecodeAttributeDiscard | DecodeTreatAsWithdraw | DecodeSessionReset;
