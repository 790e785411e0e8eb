/** Validation of {@link RouterConfig} at the library's boundary, with defaults filled in. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { LabError } from '../errors.js';
import { ip } from './normalize.js';
import type { Afi, BfdTimers, RouterConfig } from './types.js';

const u32 = z.number().int().min(1).max(0xffff_ffff);
const afi = z.enum(['ipv4', 'ipv6']);
// RFC 4271 4.2: zero, or at least three seconds.
const holdTime = z.number().int().min(0).max(65535).refine((n) => n === 0 || n >= 3, 'hold time must be 0 or at least 3 s');
// Quoted in BIRD and GoBGP, a bare word in FRR: keep it to characters all three take as is.
const password = z.string().regex(/^[A-Za-z0-9_.,:;+=@%^~-]{1,80}$/, 'password: 1-80 of [A-Za-z0-9_.,:;+=@%^~-]');

const bfd = z.object({
  rxMs: z.number().int().min(10).max(60_000),
  txMs: z.number().int().min(10).max(60_000),
  multiplier: z.number().int().min(2).max(255),
});

const neighbor = z.object({
  address: z.string().refine((s) => isIP(s) !== 0, 'not an IP address'),
  asn: u32,
  password: password.exactOptional(),
  bfd: bfd.exactOptional(),
  gracefulRestart: z.boolean().exactOptional(),
  multihop: z.boolean().exactOptional(),
  passive: z.boolean().exactOptional(),
  families: z.array(afi).min(1).exactOptional(),
  holdTimeSec: holdTime.exactOptional(),
});

const routerConfig = z.object({
  asn: u32,
  routerId: z.ipv4(),
  neighbors: z.array(neighbor),
  families: z.array(afi).min(1).exactOptional(),
  holdTimeSec: holdTime.exactOptional(),
});

/** A neighbour with every default applied. */
export interface ResolvedNeighbor {
  /** Canonical text. */
  readonly address: string;
  readonly family: Afi;
  readonly asn: number;
  readonly ibgp: boolean;
  readonly password?: string;
  readonly bfd?: BfdTimers;
  readonly gracefulRestart: boolean;
  readonly multihop: boolean;
  readonly passive: boolean;
  readonly families: readonly Afi[];
  readonly holdTimeSec: number;
}

export interface ResolvedConfig {
  readonly asn: number;
  readonly routerId: string;
  readonly families: readonly Afi[];
  readonly holdTimeSec: number;
  readonly neighbors: readonly ResolvedNeighbor[];
}

const DEFAULT_HOLD_TIME_SEC = 90;

/** Validates a router configuration and applies the defaults; throws `LabError('BadOptions')`. */
export function resolveConfig(config: RouterConfig): ResolvedConfig {
  const r = routerConfig.safeParse(config);
  if (!r.success) throw new LabError('BadOptions', `router config: ${z.prettifyError(r.error)}`);
  const c = r.data;
  const families: Afi[] = [...new Set<Afi>(c.families ?? ['ipv4', 'ipv6'])];
  const holdTimeSec = c.holdTimeSec ?? DEFAULT_HOLD_TIME_SEC;
  const seen = new Set<string>();
  const neighbors = c.neighbors.map((n): ResolvedNeighbor => {
    const address = ip(n.address);
    if (seen.has(address)) throw new LabError('BadOptions', `router config: neighbour ${address} given twice`);
    seen.add(address);
    const nf = [...new Set(n.families ?? families)];
    const extra = nf.filter((f) => !families.includes(f));
    if (extra.length > 0) throw new LabError('BadOptions', `router config: neighbour ${address} activates ${extra.join(', ')}, which the router does not`);
    return {
      address,
      family: isIP(address) === 4 ? 'ipv4' : 'ipv6',
      asn: n.asn,
      ibgp: n.asn === c.asn,
      ...(n.password === undefined ? {} : { password: n.password }),
      ...(n.bfd === undefined ? {} : { bfd: n.bfd }),
      gracefulRestart: n.gracefulRestart ?? false,
      multihop: n.multihop ?? false,
      passive: n.passive ?? true,
      families: nf,
      holdTimeSec: n.holdTimeSec ?? holdTimeSec,
    };
  });
  return { asn: c.asn, routerId: c.routerId, families, holdTimeSec, neighbors };
}

/** RFC 4271 10: a keepalive a third of the hold time (0 when hold time is 0). */
export function keepaliveFor(holdTimeSec: number): number {
  return Math.floor(holdTimeSec / 3);
}
