/**
 * Malformed membership datagrams for fault 4, each named with the reason the speaker must
 * count it under (`herald_membership_dropped_total{reason}`): the wire format is version
 * (1 octet, = 1), header, updates, and a 32-octet HMAC-SHA256 tag; at most 1200 octets
 * (speaker/src/membership/codec.ts). Pure.
 */

export interface UdpKind {
  readonly kind: string;
  /** The drop reason it must earn; undefined for random datagrams (any reason). */
  readonly reason: string | undefined;
  readonly make: (random: (n: number) => Buffer) => Buffer;
}

const withFirst = (first: number, rest: Buffer): Buffer => Buffer.concat([Buffer.from([first]), rest]);

export const UDP_KINDS: readonly UdpKind[] = [
  { kind: 'empty', reason: 'truncated', make: () => Buffer.alloc(0) },
  { kind: 'versionOnly', reason: 'truncated', make: () => Buffer.from([1]) },
  { kind: 'shortHeader', reason: 'truncated', make: (r) => withFirst(1, r(5)) },
  { kind: 'version2', reason: 'badVersion', make: (r) => withFirst(2, r(200)) },
  { kind: 'version0', reason: 'badVersion', make: (r) => withFirst(0, r(60)) },
  { kind: 'forgedTag', reason: 'badTag', make: (r) => withFirst(1, r(300)) },
  { kind: 'oneOverMax', reason: 'tooLarge', make: (r) => withFirst(1, r(1200)) },
  // The largest UDP payload over IPv4: 44 fragments on the wire, reassembled by the kernel.
  { kind: 'huge', reason: 'tooLarge', make: (r) => withFirst(1, r(65_506)) },
  { kind: 'random', reason: undefined, make: (r) => r(1 + (r(2).readUInt16BE(0) % 1200)) },
];
