/**
 * Types of the RFC 4271 section 8 session state machine. Messages are described by minimal
 * shapes of their own (not the wire codec's), so the state machine stays independent of it;
 * the driver maps codec messages to these and back.
 * @packageDocumentation
 */

/** RFC 4271 8.2.2: the six session states. */
export type SessionStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** An address family: AFI (RFC 4760; 1 IPv4, 2 IPv6) and SAFI (1 unicast). */
export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** A family in the Graceful Restart capability (RFC 4724 3), with its Forwarding State bit. */
export interface GracefulRestartFamily extends AfiSafi {
  readonly forwardingPreserved: boolean;
}

/** The Graceful Restart capability (RFC 4724 3). */
export interface GracefulRestartCapability {
  readonly restartTimeSec: number;
  /** The Restart State (R) bit. */
  readonly restarting: boolean;
  readonly families: readonly GracefulRestartFamily[];
}

/**
 * The capabilities (RFC 5492) a speaker advertises in its OPEN, as far as this package cares.
 * An absent field means the capability was not advertised.
 */
export interface Capabilities {
  /** Multiprotocol Extensions (RFC 4760), one capability per family. Absent or empty: none sent. */
  readonly multiprotocol?: readonly AfiSafi[];
  /** Support for 4-octet AS numbers (RFC 6793), carrying the speaker's real AS number. */
  readonly fourOctetAsn?: number;
  /** Route Refresh (RFC 2918). */
  readonly routeRefresh?: boolean;
  /** Graceful Restart (RFC 4724). */
  readonly gracefulRestart?: GracefulRestartCapability;
  /** Extended Messages (RFC 8654). */
  readonly extendedMessage?: boolean;
}

/** An OPEN message (RFC 4271 4.2), capabilities already parsed. */
export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS 23456 when the real AS needs 4 octets). */
  readonly asn: number;
  /** Seconds; 0 or at least 3. */
  readonly holdTime: number;
  /** The BGP Identifier as an unsigned 32-bit integer. */
  readonly bgpId: number;
  readonly capabilities: Capabilities;
}

/** A NOTIFICATION message (RFC 4271 4.5). */
export interface Notification {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

/** RFC 4271 4.5 error codes (7 from RFC 7313 5). */
export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefreshMessage: 7,
} as const;

/** RFC 4271 6.2 (and RFC 5492) OPEN Message Error subcodes. */
export const OpenErrorSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** RFC 6608 Finite State Machine Error subcodes. */
export const FsmErrorSubcode = {
  Unspecified: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

/** RFC 4486 (RFC 8538, RFC 9384) Cease subcodes. */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
  BfdDown: 10,
} as const;

/** RFC 6793: the 2-octet placeholder for an AS number that needs 4 octets. */
export const AS_TRANS = 23456;

/**
 * RFC 4271 8.1 events, by their RFC names. Optional RFC events that this machine never needs
 * (the DampPeerOscillations start variants) are omitted. DelayOpen is not implemented (this
 * machine never starts a DelayOpenTimer), so DelayOpenTimer_Expires is handled as an unexpected
 * event. `U` is the driver's UPDATE type, passed through untouched.
 */
export type SessionEvent<U = unknown> =
  // Administrative events (8.1.2)
  | { readonly type: 'ManualStart' }
  | {
      readonly type: 'ManualStop';
      /** Cease subcode to send; Administrative Shutdown by default. */
      readonly subcode?: number;
      /** Cease data, e.g. an RFC 8203 shutdown communication. */
      readonly data?: Uint8Array;
    }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'ManualStart_with_PassiveTcpEstablishment' }
  | { readonly type: 'AutomaticStart_with_PassiveTcpEstablishment' }
  | { readonly type: 'AutomaticStop'; readonly subcode: number; readonly data?: Uint8Array }
  // Timer events (8.1.3)
  | { readonly type: 'ConnectRetryTimer_Expires' }
  | { readonly type: 'HoldTimer_Expires' }
  | { readonly type: 'KeepaliveTimer_Expires' }
  | { readonly type: 'DelayOpenTimer_Expires' }
  | { readonly type: 'IdleHoldTimer_Expires' }
  // TCP connection events (8.1.4)
  | { readonly type: 'TcpConnection_Valid' }
  | { readonly type: 'Tcp_CR_Invalid' }
  | { readonly type: 'Tcp_CR_Acked' }
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  // BGP message events (8.1.5)
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  | { readonly type: 'BGPHeaderErr'; readonly subcode: number; readonly data?: Uint8Array }
  | { readonly type: 'BGPOpenMsgErr'; readonly subcode: number; readonly data?: Uint8Array }
  | { readonly type: 'OpenCollisionDump' }
  | { readonly type: 'NotifMsgVerErr'; readonly notification?: Notification }
  | { readonly type: 'NotifMsg'; readonly notification: Notification }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg'; readonly update: U }
  | { readonly type: 'UpdateMsgErr'; readonly subcode: number; readonly data?: Uint8Array }
  /** Not an RFC 4271 event: a malformed ROUTE-REFRESH (RFC 7313 5, ROUTE-REFRESH Message Error). */
  | { readonly type: 'RouteRefreshMsgErr'; readonly subcode: number; readonly data?: Uint8Array }
  /**
   * Not an RFC 4271 event: the BFD session protecting this BGP session went Down. RFC 5882
   * §4.2 asks the client protocol to act on it at once (not wait for its own timers); RFC 9384
   * gives the Cease subcode to send.
   */
  | { readonly type: 'BfdDown' };

/** Every event name. */
export type SessionEventType = SessionEvent['type'];

/** The timers of RFC 4271 8 that this machine runs. */
export type TimerName = 'ConnectRetryTimer' | 'HoldTimer' | 'KeepaliveTimer' | 'IdleHoldTimer';

/** What the capabilities of both sides add up to (each needs both sides to advertise it). */
export interface NegotiatedCapabilities {
  /** Families both sides enabled; IPv4 unicast is implied for a side that sends no MP capability. */
  readonly families: readonly AfiSafi[];
  readonly fourOctetAsn: boolean;
  readonly routeRefresh: boolean;
  readonly extendedMessage: boolean;
  /** Present when both advertised Graceful Restart: the peer's side, for the receiving speaker. */
  readonly gracefulRestart?: {
    readonly peerRestartTimeSec: number;
    readonly peerRestarting: boolean;
    /** The peer's GR families that are also negotiated families. */
    readonly families: readonly GracefulRestartFamily[];
  };
}

/** The session parameters agreed in the OPEN exchange. */
export interface Negotiated extends NegotiatedCapabilities {
  /** min(ours, theirs), seconds; 0 means no hold timer and no keepalives (RFC 4271 4.2). */
  readonly holdTimeSec: number;
  /** hold time / 3 (RFC 4271 10), 0 when the hold time is 0. */
  readonly keepaliveMs: number;
  readonly peerAsn: number;
  readonly peerBgpId: number;
  /** Internal (same AS) session. */
  readonly ibgp: boolean;
}

/** Why a session went to Idle; becomes a log field and a metric label. */
export type SessionDownReason =
  | 'manualStop'
  | 'automaticStop'
  | 'holdTimerExpired'
  | 'tcpConnectionFails'
  | 'notificationReceived'
  | 'notificationVersionError'
  | 'openMessageError'
  | 'messageHeaderError'
  | 'updateMessageError'
  | 'routeRefreshMessageError'
  | 'collisionResolution'
  | 'bfdDown'
  | 'fsmError'
  | 'unexpectedEvent';

/**
 * Effects for the driver to carry out, in order. Timer actions are executed by {@link Session};
 * the rest go to its `onAction` callback.
 */
export type Action<U = unknown> =
  /** Open an outgoing TCP connection to the peer (port 179). */
  | { readonly type: 'connect' }
  /** Accept incoming TCP connections from the peer from now on (until `releaseResources`). */
  | { readonly type: 'listen' }
  /** Accept the connection request reported by `TcpConnection_Valid`. */
  | { readonly type: 'acceptIncoming' }
  /** Refuse the connection request reported by `Tcp_CR_Invalid` (or arriving while Idle). */
  | { readonly type: 'rejectIncoming' }
  /**
   * A second connection from the peer while this one is past Active (RFC 4271 6.8). `track`:
   * run it as a separate session and settle the collision with `resolveCollision` once an OPEN
   * arrives; `close`: this session is Established, so the new connection loses outright.
   */
  | { readonly type: 'secondConnection'; readonly handling: 'track' | 'close' }
  /** Close the TCP connection (after flushing anything sent before, e.g. a NOTIFICATION). */
  | { readonly type: 'dropTcp' }
  | { readonly type: 'sendOpen'; readonly open: OpenMessage }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data: Uint8Array }
  | { readonly type: 'startTimer'; readonly name: TimerName; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly name: TimerName }
  /** The session reached Established; start sending UPDATEs. */
  | { readonly type: 'established'; readonly negotiated: Negotiated }
  /**
   * The session went to Idle from `from`. Routes learned from the peer must be withdrawn
   * exactly when `from` is `'Established'`. `notification` is the one sent or received.
   */
  | {
      readonly type: 'sessionDown';
      readonly from: SessionStateName;
      readonly reason: SessionDownReason;
      readonly notification?: Notification;
    }
  /** An UPDATE received in Established, to be processed. */
  | { readonly type: 'deliverUpdate'; readonly update: U }
  /** Release the connection's resources; stop accepting connections from the peer. */
  | { readonly type: 'releaseResources' };

/** Action type names. */
export type ActionType = Action['type'];

/** The session state: the RFC 4271 state plus what the machine must remember across events. */
export interface SessionState {
  readonly name: SessionStateName;
  /** RFC 4271 8: ConnectRetryCounter. Here: consecutive failures, which drive the backoff. */
  readonly connectRetryCounter: number;
  /** The session was started with passive TCP establishment (accept only, never connect). */
  readonly passive: boolean;
  /** Started and not stopped: after a failure the IdleHoldTimer restarts it automatically. */
  readonly enabled: boolean;
  /** From OpenConfirm on: what the OPEN exchange agreed. */
  readonly negotiated?: Negotiated;
}

/**
 * The peer's AS: a number, or taken from its OPEN (MetalLB's `dynamicASN`): `internal` accepts
 * only our own AS (iBGP), `external` any other (eBGP).
 */
export type PeerAsn = number | 'internal' | 'external';

/** Session configuration with every default filled in; build it with `sessionConfig`. */
export interface SessionConfig {
  readonly localAsn: number;
  readonly peerAsn: PeerAsn;
  /** Our BGP Identifier, unsigned 32-bit, non-zero. */
  readonly localBgpId: number;
  /** Hold time we propose, seconds: 0 or at least 3. */
  readonly holdTimeSec: number;
  /** First retry delay after a failure; doubles per consecutive failure. */
  readonly connectRetryMs: number;
  /** Cap on the retry delay. */
  readonly connectRetryMaxMs: number;
  /** Hold timer while waiting for the peer's OPEN (RFC 4271 8: suggested 4 minutes). */
  readonly largeHoldTimeMs: number;
  /** Restart automatically (via the IdleHoldTimer) after a failure. */
  readonly autoRestart: boolean;
  /** Capabilities we advertise; 4-octet AS support is always advertised in addition. */
  readonly capabilities: Capabilities;
}

/** Input to `sessionConfig`: the required fields plus overrides of the defaults. */
export type SessionConfigInput = Pick<SessionConfig, 'localAsn' | 'peerAsn' | 'localBgpId'> &
  Partial<Omit<SessionConfig, 'localAsn' | 'peerAsn' | 'localBgpId'>>;

/** The result of one step of the state machine. */
export interface Transition<U = unknown> {
  readonly state: SessionState;
  readonly actions: readonly Action<U>[];
}
