/** BIRD 2.0.12 configuration: one `protocol bgp` per neighbour. Pure. */
import type { ResolvedConfig, ResolvedNeighbor } from './config.js';
import type { Afi } from './types.js';

/** The kernel protocols, whose merged export is the router's forwarding view (ECMP). */
export const BIRD_KERNEL: Readonly<Record<Afi, string>> = { ipv4: 'kernel4', ipv6: 'kernel6' };
/** Routing tables BIRD creates by default. */
export const BIRD_TABLE: Readonly<Record<Afi, string>> = { ipv4: 'master4', ipv6: 'master6' };

/** `herald_192_0_2_11`, `herald_2001_db8__11`: BIRD names are [A-Za-z0-9_]. */
export function birdProtocolName(address: string): string {
  return `herald_${address.replace(/[^A-Za-z0-9]/g, '_')}`;
}

function channel(afi: Afi, n: ResolvedNeighbor): string {
  // Direct sessions: the next hop is a neighbour on the LAN. Multihop: resolve it through
  // the direct routes in the table (protocol direct below).
  const gateway = n.multihop ? 'recursive' : 'direct';
  return `  ${afi} { import all; export none; gateway ${gateway}; };`;
}

function bgpProtocol(n: ResolvedNeighbor, config: ResolvedConfig): string[] {
  const lines = [
    `protocol bgp ${birdProtocolName(n.address)} {`,
    `  local as ${config.asn};`,
    `  neighbor ${n.address} as ${n.asn};`,
    // BIRD makes iBGP multihop by default; say which one we mean for either kind.
    n.multihop ? '  multihop;' : '  direct;',
    `  passive ${n.passive ? 'on' : 'off'};`,
    `  hold time ${n.holdTimeSec};`,
    // After a session error BIRD keeps the protocol down (refusing connections) for 60-300 s
    // by default; a lab wants the session back as soon as the speaker redials.
    '  error wait time 1, 5;',
  ];
  // Without it BIRD is "aware" (helper only); on = also a restarting speaker (RFC 4724).
  if (n.gracefulRestart) lines.push('  graceful restart on;');
  if (n.password !== undefined) lines.push(`  password "${n.password}";`);
  if (n.bfd !== undefined) {
    lines.push(`  bfd { min rx interval ${n.bfd.rxMs} ms; min tx interval ${n.bfd.txMs} ms; multiplier ${n.bfd.multiplier}; };`);
  }
  for (const f of n.families) lines.push(channel(f, n));
  lines.push('}');
  return lines;
}

/** The whole `bird.conf`. */
export function birdConfig(config: ResolvedConfig): string {
  const lines = [
    'log stderr all;',
    `router id ${config.routerId};`,
    'protocol device { scan time 10; }',
    // Connected networks in the tables: next-hop resolution for multihop sessions. Never exported.
    'protocol direct { ipv4; ipv6; interface "eth0"; }',
  ];
  for (const afi of ['ipv4', 'ipv6'] as const) {
    // merge paths: several equal BGP routes become one multipath kernel route (ECMP).
    lines.push(`protocol kernel ${BIRD_KERNEL[afi]} {`, `  ${afi} { import none; export where source = RTS_BGP; };`, '  merge paths on;', '}');
  }
  if (config.neighbors.some((n) => n.bfd !== undefined)) {
    // Sessions come from the BGP protocols (bfd on); their own timers override these.
    lines.push('protocol bfd {', '  interface "*" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; };', '  multihop { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; };', '}');
  }
  for (const n of config.neighbors) lines.push(...bgpProtocol(n, config));
  return lines.join('\n') + '\n';
}
