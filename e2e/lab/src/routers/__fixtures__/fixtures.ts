/** Shared by the unit tests: captured router output and the interop test's router configuration. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RouterConfig, RouterKind } from '../types.js';

/** Text of `__fixtures__/NAME` (captured from the real daemons by the interop setup). */
export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./${name}`, import.meta.url)), 'utf8');
}

export const ROUTER_ASN: Readonly<Record<RouterKind, number>> = { frr: 64512, bird: 64513, gobgp: 64514 };
const ROUTER_ID: Readonly<Record<RouterKind, string>> = { frr: '192.0.2.201', bird: '192.0.2.202', gobgp: '192.0.2.203' };

/** The configuration interop.int.test.ts gives each router (which the daemons accepted). */
export function interopConfig(kind: RouterKind): RouterConfig {
  return {
    asn: ROUTER_ASN[kind],
    routerId: ROUTER_ID[kind],
    neighbors: [
      { address: '192.0.2.11', asn: 4_200_000_001, ...(kind === 'gobgp' ? {} : { bfd: { rxMs: 300, txMs: 300, multiplier: 3 } }) },
      { address: '192.0.2.12', asn: 4_200_000_001, gracefulRestart: true },
      { address: '2001:db8::11', asn: ROUTER_ASN[kind] },
      { address: '192.0.2.99', asn: 4_200_000_099, password: 'herald-lab-md5', multihop: true },
    ],
  };
}
