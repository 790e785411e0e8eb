/** fast-check arbitraries and small helpers shared by the L2 codec tests. */
import fc from 'fast-check';
import type { IP } from '@herald/shared/ip';
import { parseMAC, type MAC } from '../ethernet.js';
import type { IPv4 } from '../arp.js';
import type { IPv6 } from '../ndp.js';

export function mac(s: string): MAC {
  const m = parseMAC(s);
  if (m === undefined) throw new Error(`not a MAC: ${s}`);
  return m;
}

export const arbMAC: fc.Arbitrary<MAC> = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => mac(Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':')));

export const arbIPv4: fc.Arbitrary<IPv4> = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4, value }));

export const arbIPv6: fc.Arbitrary<IPv6> = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => ({ family: 6, value }));

/** Unicast (not ff00::/8) and not unspecified. */
export const arbUnicastIPv6: fc.Arbitrary<IPv6> = arbIPv6.filter((ip) => ip.value >> 120n !== 0xffn && ip.value !== 0n);

export function v4(s: string): IPv4 {
  const parts = s.split('.').map(Number);
  const value = parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
  return { family: 4, value };
}

export function asV6(ip: IP | undefined): IPv6 {
  if (ip?.family !== 6) throw new Error('not IPv6');
  return { family: 6, value: ip.value };
}

/** Random buffers, plus valid ones with random bytes overwritten, truncated or extended. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 });
  return fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(valid, edits).map(([b, es]) => {
      const c = Uint8Array.from(b);
      for (const [i, v] of es) if (c.length > 0) c[i % c.length] = v;
      return c;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
    fc.tuple(valid, fc.uint8Array({ maxLength: 40 })).map(([b, extra]) => Uint8Array.from([...b, ...extra])),
  );
}
