/**
 * Stable 64-bit hashing for ownership election. Every speaker must compute the
 * same numbers from the same strings on any Node.js version or CPU, so this is
 * written out here (no `crypto` algorithm choice, no seeds, no platform hash).
 */

const MASK64 = (1n << 64n) - 1n;
// FNV parameters for 64 bits (draft-eastlake-fnv, section 5).
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;

const utf8 = new TextEncoder();

/** FNV-1a, 64 bits, over the UTF-8 bytes of `s`. */
export function fnv1a64(s: string): bigint {
  let h = FNV64_OFFSET;
  for (const byte of utf8.encode(s)) h = ((h ^ BigInt(byte)) * FNV64_PRIME) & MASK64;
  return h;
}

/**
 * MurmurHash3's 64-bit finaliser (fmix64): a bijection on 64 bits in which every
 * input bit flips each output bit with probability about 1/2. FNV-1a alone mixes
 * its last octets only into the higher bits, and rendezvous hashing compares
 * whole scores, so scores go through this.
 */
export function fmix64(x: bigint): bigint {
  let h = x & MASK64;
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & MASK64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & MASK64;
  h ^= h >> 33n;
  return h;
}
