/**
 * Pure helpers of the BGP benchmark: the prefixes it announces, the routers' cheap count
 * queries, and an independent reader of captured BGP traffic (pcap from tcpdump, TCP
 * reassembly per direction, UPDATE NLRI and withdrawals). Independent of bgp-speaker-lite's
 * codec on purpose: the observer must not share the code it measures.
 */

// ---- prefixes -----------------------------------------------------------------------------

function ipv4ToU32(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${ip}`);
  return parts.reduce((a, p) => a * 256 + p, 0);
}

function u32ToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** `count` consecutive host prefixes (`a.b.c.d/32`) starting at `base`. */
export function hostPrefixes(base: string, count: number): string[] {
  const first = ipv4ToU32(base);
  if (first + count > 0x1_0000_0000) throw new RangeError(`${count} addresses from ${base} run past 255.255.255.255`);
  return Array.from({ length: count }, (_, i) => `${u32ToIpv4(first + i)}/32`);
}

// ---- router count queries -----------------------------------------------------------------

/** What a router says about one neighbour: session up, prefixes accepted from it. */
export interface PeerCount {
  readonly established: boolean;
  readonly prefixes: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** FRR `show bgp ipv4 unicast summary json`: `peers[ADDR].pfxRcd` and `state`. */
export function frrSummaryCount(json: string, neighbor: string): PeerCount | undefined {
  const doc: unknown = JSON.parse(json);
  const peer = isRecord(doc) && isRecord(doc['peers']) ? doc['peers'][neighbor] : undefined;
  if (!isRecord(peer)) return undefined;
  return { established: peer['state'] === 'Established', prefixes: typeof peer['pfxRcd'] === 'number' ? peer['pfxRcd'] : 0 };
}

/**
 * BIRD `show protocols all NAME` (birdc text): the `BGP state:` line and the channel's
 * `Routes: N imported, ...` line. No Routes line (channel down) counts as 0.
 */
export function birdProtocolCount(text: string): PeerCount | undefined {
  const state = /BGP state:\s+(\S+)/.exec(text)?.[1];
  if (state === undefined) return undefined;
  // One Routes line per channel (ipv4, ipv6).
  const prefixes = [...text.matchAll(/Routes:\s+(\d+) imported/g)].reduce((a, m) => a + Number(m[1]), 0);
  return { established: state === 'Established', prefixes };
}

/** One neighbour in `gobgp neighbor ADDR -j` (gobgp 3.x). */
export interface GobgpNeighbor extends PeerCount {
  readonly updatesReceived: number;
  readonly updatesSent: number;
}

/** GoBGP's session_state enum: 6 is Established (gobgp.proto PeerState.SessionState). */
const GOBGP_ESTABLISHED = 6;

/** `gobgp neighbor ADDR -j`: session state, `adj_table.accepted` (else received), UPDATE counts. */
export function gobgpNeighbor(json: string): GobgpNeighbor | undefined {
  const doc: unknown = JSON.parse(json);
  const state = isRecord(doc) ? doc['state'] : undefined;
  if (!isRecord(state)) return undefined;
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const msgs = isRecord(state['messages']) ? state['messages'] : {};
  const recv = isRecord(msgs['received']) ? msgs['received'] : {};
  const sent = isRecord(msgs['sent']) ? msgs['sent'] : {};
  // The per-family table is under afi_safis[].state; older releases put adj_table on state.
  let prefixes = 0;
  const afiSafis = isRecord(doc) && Array.isArray(doc['afi_safis']) ? doc['afi_safis'] : [];
  for (const a of afiSafis) {
    const st = isRecord(a) && isRecord(a['state']) ? a['state'] : undefined;
    if (st !== undefined) prefixes += num(st['accepted'] ?? st['received']);
  }
  const adj = isRecord(state['adj_table']) ? state['adj_table'] : undefined;
  if (adj !== undefined) prefixes = Math.max(prefixes, num(adj['accepted'] ?? adj['received']));
  return { established: state['session_state'] === GOBGP_ESTABLISHED, prefixes, updatesReceived: num(recv['update']), updatesSent: num(sent['update']) };
}

/** FRR `show bgp ipv4 unicast PREFIX json`: the next hops of every path held for it, sorted. */
export function frrPathNextHops(json: string): string[] {
  const doc: unknown = JSON.parse(json === '' ? '{}' : json);
  const paths = isRecord(doc) && Array.isArray(doc['paths']) ? doc['paths'] : [];
  const out: string[] = [];
  for (const p of paths) {
    const nhs = isRecord(p) && Array.isArray(p['nexthops']) ? p['nexthops'] : [];
    for (const nh of nhs) if (isRecord(nh) && typeof nh['ip'] === 'string') out.push(nh['ip']);
  }
  return [...new Set(out)].sort();
}

/** FRR `show bfd peers json`: the session state (`up`, `down`, `init`, ...) with `peer`. */
export function frrBfdStatus(json: string, peer: string): string | undefined {
  const doc: unknown = JSON.parse(json === '' ? '[]' : json);
  for (const p of Array.isArray(doc) ? doc : []) if (isRecord(p) && p['peer'] === peer && typeof p['status'] === 'string') return p['status'];
  return undefined;
}

// ---- GoBGP's gRPC API, by hand --------------------------------------------------------------

/** gobgp.proto (GoBGP 3.x, package apipb): `rpc GetTable(GetTableRequest) returns (GetTableResponse)`. */
export const GOBGP_GET_TABLE_PATH = '/apipb.GobgpApi/GetTable';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * `GetTableRequest { Resource type = 1; Family family = 2; string name = 3; }` asking for the
 * Adj-RIB-In (`ADJ_IN` = 2) of one neighbour, IPv4 unicast (`Family { Afi afi = 1; Safi safi = 2; }`,
 * AFI_IP = 1, SAFI_UNICAST = 1), in the gRPC length-prefixed framing (compressed flag, length
 * u32, message).
 */
export function gobgpAdjInRequest(neighbor: string): Uint8Array {
  const name = [...Buffer.from(neighbor, 'utf8')];
  const family = [0x08, 1, 0x10, 1];
  const body = [0x08, 2, 0x12, ...varint(family.length), ...family, 0x1a, ...varint(name.length), ...name];
  return Uint8Array.from([0, ...[24, 16, 8, 0].map((s) => (body.length >>> s) & 0xff), ...body]);
}

/**
 * `GetTableResponse { uint64 num_destination = 1; uint64 num_path = 2; uint64 num_accepted = 3; }`
 * from a gRPC response body (one length-prefixed message); proto3 leaves zero fields out.
 */
export function gobgpTableCounts(frame: Uint8Array): { destinations: number; paths: number; accepted: number } | undefined {
  if (frame.length < 5 || frame[0] !== 0) return undefined;
  const len = (((frame[1] ?? 0) << 24) >>> 0) + ((frame[2] ?? 0) << 16) + ((frame[3] ?? 0) << 8) + (frame[4] ?? 0);
  if (frame.length < 5 + len) return undefined;
  const out = { destinations: 0, paths: 0, accepted: 0 };
  let i = 5;
  const end = 5 + len;
  const readVarint = (): number | undefined => {
    let v = 0;
    for (let mul = 1; i < end; mul *= 128) {
      const b = frame[i++] ?? 0;
      v += (b & 127) * mul;
      if (b < 128) return v;
    }
    return undefined;
  };
  while (i < end) {
    const key = readVarint();
    if (key === undefined || key % 8 !== 0) return undefined;
    const v = readVarint();
    if (v === undefined) return undefined;
    const f = Math.floor(key / 8);
    if (f === 1) out.destinations = v;
    else if (f === 2) out.paths = v;
    else if (f === 3) out.accepted = v;
  }
  return out;
}

// ---- control-socket framing ----------------------------------------------------------------

/**
 * A vtysh reply on an FRR daemon's vty socket ends with three zero octets and the command's
 * status (FRR lib/vty.c, `vty_serv_sock` protocol as vtysh uses it). Returns the text and
 * status once complete.
 */
export function frrVtyReply(buf: Uint8Array): { text: string; status: number } | undefined {
  const n = buf.length;
  if (n < 4 || buf[n - 4] !== 0 || buf[n - 3] !== 0 || buf[n - 2] !== 0) return undefined;
  return { text: Buffer.from(buf.buffer, buf.byteOffset, n - 4).toString('utf8'), status: buf[n - 1] ?? 0 };
}

/**
 * A reply on BIRD's control socket is complete at a line of a four-digit code and a space
 * (continuation lines use a dash, or a leading space). Returns the text without codes.
 */
export function birdReply(text: string): string | undefined {
  if (!/(?:^|\n)\d{4} [^\n]*\n$/.test(text)) return undefined;
  return text
    .split('\n')
    .map((l) => l.replace(/^\d{4}[ -]/, '').replace(/^ /, ''))
    .join('\n');
}

/** `ip -j route show PREFIX`: every gateway of the route(s), single or multipath. */
export function kernelGateways(json: string): string[] {
  const doc: unknown = JSON.parse(json === '' ? '[]' : json);
  const out: string[] = [];
  for (const r of Array.isArray(doc) ? doc : []) {
    if (!isRecord(r)) continue;
    if (typeof r['gateway'] === 'string') out.push(r['gateway']);
    for (const nh of Array.isArray(r['nexthops']) ? r['nexthops'] : []) if (isRecord(nh) && typeof nh['gateway'] === 'string') out.push(nh['gateway']);
  }
  return out.sort();
}

// ---- captured BGP traffic -----------------------------------------------------------------

/** One captured frame: its kernel timestamp (epoch ms) and bytes from the link header on. */
export interface PcapPacket {
  readonly at: number;
  readonly data: Uint8Array;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;

/**
 * Reads a classic pcap stream (what `tcpdump -w -` writes) chunk by chunk: the 24-octet global
 * header (magic, version, snaplen, link type), then records of a 16-octet header (seconds,
 * micro- or nanoseconds, captured length, original length) and the frame.
 */
export class PcapReader {
  private buf: Uint8Array = new Uint8Array(0);
  private little = true;
  private nanos = false;
  private header = false;
  linkType = -1;

  push(chunk: Uint8Array): PcapPacket[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const out: PcapPacket[] = [];
    let off = 0;
    const view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    if (!this.header) {
      if (this.buf.length < 24) return out;
      const le = view.getUint32(0, true);
      const be = view.getUint32(0, false);
      if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) this.little = true;
      else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) this.little = false;
      else throw new Error(`not a pcap stream (magic ${le.toString(16)})`);
      this.nanos = view.getUint32(0, this.little) === PCAP_MAGIC_NS;
      this.linkType = view.getUint32(20, this.little);
      this.header = true;
      off = 24;
    }
    while (this.buf.length - off >= 16) {
      const sec = view.getUint32(off, this.little);
      const frac = view.getUint32(off + 4, this.little);
      const incl = view.getUint32(off + 8, this.little);
      if (this.buf.length - off - 16 < incl) break;
      const at = sec * 1000 + (this.nanos ? frac / 1e6 : frac / 1e3);
      out.push({ at, data: this.buf.slice(off + 16, off + 16 + incl) });
      off += 16 + incl;
    }
    this.buf = this.buf.slice(off);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The TCP segment inside an Ethernet/IPv4 frame, or undefined for anything else. */
export interface TcpSegment {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly syn: boolean;
  readonly payload: Uint8Array;
}

export function tcpOfFrame(frame: Uint8Array, linkType = LINKTYPE_ETHERNET): TcpSegment | undefined {
  if (linkType !== LINKTYPE_ETHERNET || frame.length < 14) return undefined;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let off = 12;
  let etherType = v.getUint16(off);
  if (etherType === 0x8100 && frame.length >= 18) {
    off += 4;
    etherType = v.getUint16(off);
  }
  off += 2;
  // IPv4 only: the lab's sessions and service addresses here are IPv4.
  if (etherType !== 0x0800 || frame.length < off + 20) return undefined;
  const ihl = ((frame[off] ?? 0) & 0x0f) * 4;
  const total = v.getUint16(off + 2);
  if ((frame[off + 9] ?? 0) !== 6) return undefined;
  const fragment = v.getUint16(off + 6) & 0x3fff;
  if (fragment !== 0) return undefined;
  const src = Array.from(frame.subarray(off + 12, off + 16)).join('.');
  const dst = Array.from(frame.subarray(off + 16, off + 20)).join('.');
  const t = off + ihl;
  if (frame.length < t + 20) return undefined;
  const dataOff = ((frame[t + 12] ?? 0) >> 4) * 4;
  const end = Math.min(frame.length, off + total);
  return {
    src,
    dst,
    srcPort: v.getUint16(t),
    dstPort: v.getUint16(t + 2),
    seq: v.getUint32(t + 4),
    syn: ((frame[t + 13] ?? 0) & 0x02) !== 0,
    payload: frame.slice(Math.min(end, t + dataOff), end),
  };
}

/** RFC 4271 4.1 message types. */
export const BGP_OPEN = 1;
export const BGP_UPDATE = 2;
export const BGP_NOTIFICATION = 3;
export const BGP_KEEPALIVE = 4;

/** One BGP message seen on the wire; for an UPDATE, its IPv4 NLRI and withdrawn routes (`a.b.c.d/len`). */
export interface WireMessage {
  /** Capture time of the segment that completed the message (epoch ms). */
  readonly at: number;
  readonly src: string;
  readonly dst: string;
  readonly type: number;
  /** Octets of the whole message. */
  readonly length: number;
  readonly nlri: readonly string[];
  readonly withdrawn: readonly string[];
}

/** RFC 4271 4.3 prefix encoding: a length octet, then the fewest octets that hold it. */
export function decodeIpv4Prefixes(bytes: Uint8Array): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const len = bytes[i] ?? 0;
    const n = Math.ceil(len / 8);
    if (len > 32 || i + 1 + n > bytes.length) return undefined;
    const a = [0, 0, 0, 0];
    for (let k = 0; k < n; k++) a[k] = bytes[i + 1 + k] ?? 0;
    out.push(`${a.join('.')}/${len}`);
    i += 1 + n;
  }
  return out;
}

/**
 * RFC 4271 4.3 UPDATE body: Withdrawn Routes Length (2), Withdrawn Routes, Total Path
 * Attribute Length (2), Path Attributes, NLRI (the rest). IPv4 unicast only (no MP_REACH).
 */
export function decodeUpdateBody(body: Uint8Array): { nlri: string[]; withdrawn: string[] } | undefined {
  if (body.length < 4) return undefined;
  const wl = ((body[0] ?? 0) << 8) | (body[1] ?? 0);
  if (2 + wl + 2 > body.length) return undefined;
  const withdrawn = decodeIpv4Prefixes(body.subarray(2, 2 + wl));
  const al = ((body[2 + wl] ?? 0) << 8) | (body[3 + wl] ?? 0);
  const nlriAt = 4 + wl + al;
  if (nlriAt > body.length) return undefined;
  const nlri = decodeIpv4Prefixes(body.subarray(nlriAt));
  if (withdrawn === undefined || nlri === undefined) return undefined;
  return { nlri, withdrawn };
}

const MARKER_LENGTH = 16;
const HEADER_LENGTH = 19;
const NONE: readonly string[] = [];

interface Flow {
  next: number | undefined;
  buf: Uint8Array;
}

/**
 * Cuts the captured TCP streams (per direction) into BGP messages (RFC 4271 4.1 header: Marker
 * of 16 ones, Length (2), Type (1)) and decodes UPDATEs. Assumes
 * the capture sees segments in order, as on a veth; a retransmitted segment is skipped, and a
 * gap (a lost capture) drops the buffer and resynchronises on the next marker.
 */
export class BgpStreamReader {
  private readonly flows = new Map<string, Flow>();
  /** Octets dropped while resynchronising: should stay 0. */
  skipped = 0;

  push(at: number, seg: TcpSegment): WireMessage[] {
    const key = `${seg.src}:${seg.srcPort}>${seg.dst}:${seg.dstPort}`;
    let flow = this.flows.get(key);
    if (seg.syn || flow === undefined) {
      flow = { next: seg.syn ? (seg.seq + 1) >>> 0 : undefined, buf: new Uint8Array(0) };
      this.flows.set(key, flow);
    }
    let payload = seg.payload;
    if (payload.length === 0) return [];
    if (flow.next !== undefined) {
      const delta = (seg.seq - flow.next) | 0;
      if (delta < 0) {
        // Retransmission (partly) of what we have.
        if (-delta >= payload.length) return [];
        payload = payload.subarray(-delta);
      } else if (delta > 0) {
        this.skipped += flow.buf.length;
        flow.buf = new Uint8Array(0);
      }
    }
    flow.next = (seg.seq + seg.payload.length) >>> 0;
    flow.buf = flow.buf.length === 0 ? payload : concat(flow.buf, payload);
    return this.drain(at, seg, flow);
  }

  private drain(at: number, seg: TcpSegment, flow: Flow): WireMessage[] {
    const out: WireMessage[] = [];
    let off = 0;
    const b = flow.buf;
    while (b.length - off >= HEADER_LENGTH) {
      if (!isMarker(b, off)) {
        // Out of step (a capture gap): find the next marker.
        let k = off + 1;
        while (k <= b.length - MARKER_LENGTH && !isMarker(b, k)) k++;
        this.skipped += k - off;
        off = k;
        continue;
      }
      const len = ((b[off + 16] ?? 0) << 8) | (b[off + 17] ?? 0);
      if (len < HEADER_LENGTH) {
        this.skipped += 1;
        off += 1;
        continue;
      }
      if (b.length - off < len) break;
      const type = b[off + 18] ?? 0;
      const u = type === BGP_UPDATE ? decodeUpdateBody(b.subarray(off + HEADER_LENGTH, off + len)) : undefined;
      out.push({ at, src: seg.src, dst: seg.dst, type, length: len, nlri: u?.nlri ?? NONE, withdrawn: u?.withdrawn ?? NONE });
      off += len;
    }
    flow.buf = b.slice(off);
    return out;
  }
}

function isMarker(b: Uint8Array, off: number): boolean {
  if (b.length - off < MARKER_LENGTH) return false;
  for (let i = 0; i < MARKER_LENGTH; i++) if (b[off + i] !== 0xff) return false;
  return true;
}

// ---- clocks -------------------------------------------------------------------------------

/**
 * Epoch milliseconds with sub-millisecond resolution that stay on the kernel's wall clock
 * (what tcpdump stamps packets with). `performance.timeOrigin + performance.now()` alone
 * drifts from it while NTP slews; `Date.now()` alone has 1 ms steps. `calibrate` spins for
 * about `spinMs` and keeps the largest `Date.now() - monotonic` seen, the monotonic clock read
 * just after the wall clock: each sample is then at most the true offset (a truncated wall
 * reading, a preemption between the two reads, both only lower it), and the largest is within
 * microseconds of it once a millisecond boundary has passed.
 */
export class WallClock {
  private offset: number;

  constructor(
    private readonly mono: () => number = () => performance.now(),
    private readonly wall: () => number = () => Date.now(),
  ) {
    this.offset = this.wall() - this.mono();
  }

  calibrate(spinMs = 1.5): void {
    const start = this.mono();
    let best = Number.NEGATIVE_INFINITY;
    for (let t = start; t - start < spinMs; ) {
      const w = this.wall();
      t = this.mono();
      best = Math.max(best, w - t);
    }
    this.offset = best;
  }

  now(): number {
    return this.mono() + this.offset;
  }
}
