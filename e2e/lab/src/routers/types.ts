/** The routers the lab can run, each from its Debian package. */
export type RouterKind = 'frr' | 'bird' | 'gobgp';

/** Address family (unicast). */
export type Afi = 'ipv4' | 'ipv6';

/** BFD timers (RFC 5880 6.8.1 names: Required Min RX, Desired Min TX, Detect Mult). */
export interface BfdTimers {
  readonly rxMs: number;
  readonly txMs: number;
  readonly multiplier: number;
}

/** One BGP neighbour of a router: usually one of our speakers. */
export interface NeighborConfig {
  /** The neighbour's address (IPv4 or IPv6); the session runs over this family. */
  readonly address: string;
  /** Its AS number; the router's own ASN makes the session iBGP. */
  readonly asn: number;
  /** TCP MD5 (RFC 2385) password. */
  readonly password?: string;
  /** Run BFD to this neighbour (FRR: bfdd with a profile; BIRD: protocol bfd). GoBGP has no BFD. */
  readonly bfd?: BfdTimers;
  /** Act as a graceful-restart speaker for this session (RFC 4724); helper mode is on anyway. */
  readonly gracefulRestart?: boolean;
  /** Not directly connected: eBGP multihop (TTL 255), BFD multihop. */
  readonly multihop?: boolean;
  /** Only accept connections, never dial (default true: our speakers dial, see bgp-speaker-lite). */
  readonly passive?: boolean;
  /** Families activated on this session (default: the router's). */
  readonly families?: readonly Afi[];
  /** Hold time this router proposes (default the router's). */
  readonly holdTimeSec?: number;
}

/** What {@link startRouter} configures. */
export interface RouterConfig {
  readonly asn: number;
  /** BGP identifier, a dotted quad (usually the router's lab IPv4 address). */
  readonly routerId: string;
  readonly neighbors: readonly NeighborConfig[];
  /** Families to activate (default both). */
  readonly families?: readonly Afi[];
  /** Hold time proposed to neighbours (default 90 s); the session uses the smaller of both sides' (RFC 4271 4.2). */
  readonly holdTimeSec?: number;
}

/** One path the router holds for a prefix. */
export interface LearnedPath {
  /** BGP next hop (global address for IPv6). */
  readonly nextHop: string;
  /** The neighbour it came from, when the router says. */
  readonly from?: string;
  /** AS_PATH flattened: AS_SEQUENCE members in order, AS_SET members in the order shown. */
  readonly asPath: readonly number[];
  /** `'a:b'`, sorted. */
  readonly communities: readonly string[];
  /** `'a:b:c'`, sorted. */
  readonly largeCommunities: readonly string[];
  readonly localPref?: number;
  readonly med?: number;
  /** The router's best path for the prefix. */
  readonly best: boolean;
  /** Kept as stale by graceful restart (RFC 4724 4.2). */
  readonly stale?: boolean;
}

/** A prefix as a router holds it, normalised across routers. */
export interface LearnedRoute {
  /** Canonical text, e.g. `198.51.100.1/32`, `2001:db8:ff::1/128`. */
  readonly prefix: string;
  /**
   * The next hops the router forwards to, sorted: every ECMP path (FRR: best + multipath;
   * BIRD: the merged route it exports to the kernel; GoBGP: the best path only).
   */
  readonly nextHops: readonly string[];
  /** Attributes of the best path. */
  readonly asPath: readonly number[];
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly localPref?: number;
  readonly med?: number;
  readonly stale?: boolean;
  /** Every path received, best first. */
  readonly paths: readonly LearnedPath[];
}

/** RFC 4271 8.2.2 session states. */
export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** RFC 5880 4.1 session states. */
export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';

/** A neighbour as the router reports it. */
export interface NeighborStatus {
  readonly address: string;
  readonly state: SessionState;
  /** Absent when the router runs no BFD for this neighbour. */
  readonly bfd?: BfdState;
  /** Negotiated hold time while Established, when the router says. */
  readonly holdTimeSec?: number;
}

/** A route in the router namespace's kernel table (`ip -j route`). */
export interface KernelRoute {
  readonly prefix: string;
  /** Gateways, sorted (several for a multipath route). */
  readonly nextHops: readonly string[];
  /** `bgp` (FRR's zebra), `bird`, ... */
  readonly protocol?: string;
}

/** A running router in a lab host. */
export interface Router {
  readonly kind: RouterKind;
  /** The lab host it runs in. */
  readonly host: string;
  readonly config: RouterConfig;
  /** Its private folder (configuration, sockets, pid files). */
  readonly dir: string;
  /** The routes it learned for one family. */
  routes(afi: Afi): Promise<LearnedRoute[]>;
  /** Its configured neighbours and their session (and BFD) state. */
  neighbors(): Promise<NeighborStatus[]>;
  /** The kernel routes of its namespace (FRR and BIRD install what they learn; GoBGP does not). */
  kernelRoutes(afi: Afi): Promise<KernelRoute[]>;
  /** The generated configuration files, by name. */
  readonly configFiles: Readonly<Record<string, string>>;
  /** The tail of the daemons' output, for failure messages. */
  logs(): string;
  /** Stops the daemons and removes {@link Router.dir}. Safe to call twice. */
  stop(): Promise<void>;
}
