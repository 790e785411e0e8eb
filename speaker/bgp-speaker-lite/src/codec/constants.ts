/**
 * Wire constants of BGP-4 and the extensions this codec speaks.
 *
 * Message header (RFC 4271 §4.1):
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                                                               +
 * |                           Marker (16 octets, all ones)        |
 * +                                                               +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Length               |      Type     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * @module
 */

/** Message type codes: RFC 4271 §4.1, ROUTE-REFRESH from RFC 2918 §3. */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;

/** RFC 4271 §4.1: the fixed header is 19 octets. */
export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1: the largest message without RFC 8654 extended messages. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654 §4: the largest message once both sides advertised the Extended Message capability. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
/** RFC 4271 §4.2: minimum OPEN length (header + 10 octets). */
export const MIN_OPEN_LENGTH = 29;
/** RFC 4271 §4.3: minimum UPDATE length (header + two 2-octet length fields). */
export const MIN_UPDATE_LENGTH = 23;
/** RFC 4271 §4.5: minimum NOTIFICATION length (header + code + subcode). */
export const MIN_NOTIFICATION_LENGTH = 21;
/** RFC 4271 §4.4: a KEEPALIVE is the bare header. */
export const KEEPALIVE_LENGTH = 19;
/** RFC 2918 §3: AFI (2) + Reserved/Subtype (1) + SAFI (1) after the header. */
export const ROUTE_REFRESH_LENGTH = 23;

/** RFC 4271 §4.2: the only version this codec speaks. */
export const BGP_VERSION = 4;
/** RFC 6793 §9: the 2-octet placeholder for a 4-octet AS number. */
export const AS_TRANS = 23456;

/** NOTIFICATION error codes: RFC 4271 §4.5, FSM from RFC 6608, ROUTE-REFRESH from RFC 7313 §5. */
export const ErrorCode = {
  MESSAGE_HEADER_ERROR: 1,
  OPEN_MESSAGE_ERROR: 2,
  UPDATE_MESSAGE_ERROR: 3,
  HOLD_TIMER_EXPIRED: 4,
  FINITE_STATE_MACHINE_ERROR: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE_ERROR: 7,
} as const;

/** Message Header Error subcodes (RFC 4271 §4.5). */
export const MessageHeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** OPEN Message Error subcodes (RFC 4271 §4.5; 0 from §6.2; 7 from RFC 5492 §5). */
export const OpenMessageSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  /** Deprecated by RFC 4271 (Appendix A); never sent. */
  AUTHENTICATION_FAILURE_DEPRECATED: 5,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

/** UPDATE Message Error subcodes (RFC 4271 §4.5). */
export const UpdateMessageSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  /** Deprecated by RFC 4271 (Appendix A); never sent. */
  AS_ROUTING_LOOP_DEPRECATED: 7,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** Finite State Machine Error subcodes (RFC 6608 §3). */
export const FsmErrorSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPEN_SENT: 1,
  UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const;

/** Cease subcodes (RFC 4486 §4; 9 from RFC 8538, 10 from RFC 9384). */
export const CeaseSubcode = {
  MAXIMUM_NUMBER_OF_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const;

/** ROUTE-REFRESH Message Error subcodes (RFC 7313 §5). */
export const RouteRefreshSubcode = {
  INVALID_MESSAGE_LENGTH: 1,
} as const;

/** RFC 9003 §2: a Shutdown Communication holds at most 255 octets of UTF-8 (RFC 8203 allowed 128). */
export const MAX_SHUTDOWN_COMMUNICATION_LENGTH = 255;

/** Path attribute flag bits (RFC 4271 §4.3). The low four bits are unused. */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** Path attribute type codes (RFC 4271 §5, RFC 1997, RFC 4456, RFC 4760, RFC 4360, RFC 6793, RFC 8092). */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** ORIGIN values (RFC 4271 §5.1.1). */
export const OriginCode = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** AS_PATH segment types (RFC 4271 §4.3; confederation types from RFC 5065 §3). */
export const AsPathSegmentCode = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;

/** OPEN optional parameter types (RFC 5492 §4; 1 was Authentication, deprecated by RFC 4271). */
export const OptionalParameterType = {
  CAPABILITIES: 2,
  /** RFC 9072 §2: marks the extended Optional Parameters Length encoding. */
  EXTENDED_LENGTH: 255,
} as const;

/** Capability codes (RFC 4760 §8, RFC 2918 §2, RFC 8654 §3, RFC 4724 §3, RFC 6793 §3). */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
} as const;

/** Address Family Identifiers used by this codec (IANA Address Family Numbers). */
export const AfiCode = { IPV4: 1, IPV6: 2 } as const;
/** Subsequent Address Family Identifiers used by this codec (RFC 4760 §6). */
export const SafiCode = { UNICAST: 1 } as const;

/** Well-known communities (RFC 1997; GRACEFUL_SHUTDOWN from RFC 8326 §5; NO_PEER from RFC 3765; BLACKHOLE from RFC 7999). */
export const WellKnownCommunity = {
  GRACEFUL_SHUTDOWN: 0xffff0000,
  BLACKHOLE: 0xffff029a,
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NO_PEER: 0xffffff04,
} as const;
