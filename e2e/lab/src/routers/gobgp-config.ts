/**
 * GoBGP 3.x configuration (gobgpd TOML). Pure.
 *
 * GoBGP has no BFD: a neighbour's `bfd` is refused rather than silently ignored. GoBGP never
 * retries an outgoing connection faster than every 5 s (connect-retry), so neighbours default
 * to passive and our speakers dial.
 */
import { LabError } from '../errors.js';
import { keepaliveFor, type ResolvedConfig, type ResolvedNeighbor } from './config.js';
import type { Afi } from './types.js';

/** gobgpd's gRPC API, on the namespace's own loopback. */
export const GOBGP_API_PORT = 50051;
const AFI_SAFI: Readonly<Record<Afi, string>> = { ipv4: 'ipv4-unicast', ipv6: 'ipv6-unicast' };
const GR_RESTART_TIME_SEC = 120;

const q = (s: string): string => JSON.stringify(s);

function neighbor(n: ResolvedNeighbor): string[] {
  if (n.bfd !== undefined) throw new LabError('BadOptions', `GoBGP has no BFD (neighbour ${n.address})`);
  const lines = ['[[neighbors]]', '  [neighbors.config]', `    neighbor-address = ${q(n.address)}`, `    peer-as = ${n.asn}`];
  if (n.password !== undefined) lines.push(`    auth-password = ${q(n.password)}`);
  lines.push(
    '  [neighbors.timers.config]',
    `    hold-time = ${n.holdTimeSec}`,
    `    keepalive-interval = ${keepaliveFor(n.holdTimeSec)}`,
    '  [neighbors.transport.config]',
    `    passive-mode = ${n.passive}`,
  );
  if (n.multihop) lines.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', '    multihop-ttl = 255');
  if (n.gracefulRestart) lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', `    restart-time = ${GR_RESTART_TIME_SEC}`);
  for (const f of n.families) {
    lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = ${q(AFI_SAFI[f])}`);
    // GoBGP negotiates graceful restart per family only when told so.
    if (n.gracefulRestart) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
  }
  return lines;
}

/** The whole `gobgpd.toml`. */
export function gobgpConfig(config: ResolvedConfig): string {
  const lines = [
    '[global.config]',
    `  as = ${config.asn}`,
    `  router-id = ${q(config.routerId)}`,
    '  port = 179',
    // Multipath for GoBGP's own FIB use (zebra); its RIB view still shows one best path.
    '[global.use-multiple-paths.config]',
    '  enabled = true',
    '',
  ];
  for (const n of config.neighbors) lines.push(...neighbor(n), '');
  return lines.join('\n');
}
