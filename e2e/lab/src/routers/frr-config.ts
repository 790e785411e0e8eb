/**
 * FRR 8.4 configuration, one file per daemon. A daemon that reads a command it does not know
 * logs an error and stays in the same node, so one shared file breaks at the first foreign
 * block: its `exit` pops the daemon out of configuration mode and every later line fails
 * (seen here: bgpd ignored all of `router bgp` after zebra's and bfdd's lines).
 */
import { keepaliveFor, type ResolvedConfig, type ResolvedNeighbor } from './config.js';
import type { Afi, BfdTimers } from './types.js';

/** Names of the route-maps every neighbour gets. */
export const FRR_IMPORT_MAP = 'herald-import';
export const FRR_EXPORT_MAP = 'herald-export';
/** FRR's Debian build takes up to 64 (its MULTIPATH_NUM); 16 is plenty for a lab. */
export const FRR_MAXIMUM_PATHS = 16;

export interface FrrConfigFiles {
  readonly 'zebra.conf': string;
  readonly 'bgpd.conf': string;
  /** Present when a neighbour runs BFD: bfdd must then run too. */
  readonly 'bfdd.conf'?: string;
}

/** `herald-300-300-3`: one BFD profile per distinct set of timers. */
export function bfdProfileName(t: BfdTimers): string {
  return `herald-${t.rxMs}-${t.txMs}-${t.multiplier}`;
}

const FAMILY: Readonly<Record<Afi, string>> = { ipv4: 'ipv4 unicast', ipv6: 'ipv6 unicast' };

function header(hostname: string): string[] {
  return ['frr version 8.4', 'frr defaults traditional', `hostname ${hostname}`, 'log stdout informational', '!'];
}

function neighborLines(n: ResolvedNeighbor, globalHold: number): string[] {
  const a = n.address;
  const lines = [` neighbor ${a} remote-as ${n.asn}`];
  if (n.passive) lines.push(` neighbor ${a} passive`);
  if (n.password !== undefined) lines.push(` neighbor ${a} password ${n.password}`);
  // iBGP is multihop already; eBGP needs it said (TTL 255 accepts any distance).
  if (n.multihop && !n.ibgp) lines.push(` neighbor ${a} ebgp-multihop 255`);
  if (n.holdTimeSec !== globalHold) lines.push(` neighbor ${a} timers ${keepaliveFor(n.holdTimeSec)} ${n.holdTimeSec}`);
  // Helper mode is FRR's default; this makes the router a restarting speaker too (RFC 4724).
  if (n.gracefulRestart) lines.push(` neighbor ${a} graceful-restart`);
  if (n.bfd !== undefined) lines.push(` neighbor ${a} bfd profile ${bfdProfileName(n.bfd)}`);
  return lines;
}

function addressFamily(afi: Afi, neighbors: readonly ResolvedNeighbor[]): string[] {
  const active = neighbors.filter((n) => n.families.includes(afi));
  const lines = [` address-family ${FAMILY[afi]}`, `  maximum-paths ${FRR_MAXIMUM_PATHS}`, `  maximum-paths ibgp ${FRR_MAXIMUM_PATHS}`];
  for (const n of active) {
    // FRR 8.4 applies RFC 8212 (bgp ebgp-requires-policy): no eBGP route moves without a policy.
    lines.push(`  neighbor ${n.address} activate`, `  neighbor ${n.address} route-map ${FRR_IMPORT_MAP} in`, `  neighbor ${n.address} route-map ${FRR_EXPORT_MAP} out`);
  }
  lines.push(' exit-address-family');
  return lines;
}

/** bgpd's, zebra's and (with BFD) bfdd's configuration for a router. Pure. */
export function frrConfigs(config: ResolvedConfig, hostname: string): FrrConfigFiles {
  const bgpd = [
    ...header(hostname),
    // Accept everything from our speakers; send them nothing (they would ignore it anyway).
    // Defined before `router bgp`: a neighbour's route-map that does not exist yet denies all,
    // and the later definition only takes effect after `bgp route-map delay-timer` (5 s).
    `route-map ${FRR_IMPORT_MAP} permit 10`,
    'exit',
    `route-map ${FRR_EXPORT_MAP} deny 10`,
    'exit',
    '!',
    `router bgp ${config.asn}`,
    ` bgp router-id ${config.routerId}`,
    // Families are activated per neighbour below, never implicitly.
    ' no bgp default ipv4-unicast',
    // ECMP across our speakers even when they use different ASNs (same AS_PATH length).
    ' bgp bestpath as-path multipath-relax',
    ` timers bgp ${keepaliveFor(config.holdTimeSec)} ${config.holdTimeSec}`,
    ...config.neighbors.flatMap((n) => neighborLines(n, config.holdTimeSec)),
    ...config.families.flatMap((f) => addressFamily(f, config.neighbors)),
    'exit',
    '!',
  ];
  const zebra = [...header(hostname)];
  const profiles = new Map<string, BfdTimers>();
  for (const n of config.neighbors) if (n.bfd !== undefined) profiles.set(bfdProfileName(n.bfd), n.bfd);
  const files: FrrConfigFiles = { 'zebra.conf': zebra.join('\n') + '\n', 'bgpd.conf': bgpd.join('\n') + '\n' };
  if (profiles.size === 0) return files;
  const bfdd = [...header(hostname), 'bfd'];
  for (const [name, t] of profiles) {
    bfdd.push(` profile ${name}`, `  receive-interval ${t.rxMs}`, `  transmit-interval ${t.txMs}`, `  detect-multiplier ${t.multiplier}`, ' exit');
  }
  bfdd.push('exit', '!');
  return { ...files, 'bfdd.conf': bfdd.join('\n') + '\n' };
}
