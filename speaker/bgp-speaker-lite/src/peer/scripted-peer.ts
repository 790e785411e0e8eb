/**
 * A scripted BGP peer for tests: a TCP listener on 127.0.0.1 (ephemeral port) whose
 * connections a test drives step by step. It writes whatever octets the script asks for (valid
 * messages from the codec, or deliberately broken ones) and hands back what the other side
 * sends, cut by the {@link MessageFramer} and decoded, so a test can assert the exact
 * NOTIFICATION a misbehaviour earns.
 *
 * Test support only: not exported from the package entry.
 * @packageDocumentation
 */

import * as net from 'node:net';
import { decodeMessage } from '../codec/decode.js';
import { encodeMessage } from '../codec/encode.js';
import { MessageFramer } from '../codec/framer.js';
import type { BgpMessage, CodecContext, DecodeResult, NotificationMessage, OpenMessage } from '../codec/types.js';
import type { SessionDownReason } from '../fsm/types.js';

/** One thing read from a connection, in order. */
export type Received =
  | { readonly kind: 'message'; readonly message: BgpMessage }
  /** A message the codec rejected (the other side broke the protocol). */
  | { readonly kind: 'invalid'; readonly result: DecodeResult | { reason: string } }
  /** The other side closed the connection; every later read returns this too. */
  | { readonly kind: 'closed' };

/** What the scripted side puts into its OPEN. */
export interface ScriptedOpen {
  readonly asn: number;
  readonly bgpId: string;
  /** Seconds; written as given, so 1 or 2 (invalid, RFC 4271 §6.2) are possible. */
  readonly holdTime: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`scripted peer: timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(r: Received): string {
  if (r.kind === 'closed') return 'connection closed';
  if (r.kind === 'invalid') return `invalid message ${JSON.stringify(r.result, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v))}`;
  const m = r.message;
  return m.type === 'notification' ? `NOTIFICATION ${m.code}/${m.subcode}` : m.type.toUpperCase();
}

/** One accepted TCP connection, driven by the script. */
export class ScriptedConnection {
  readonly socket: net.Socket;
  /** Resolves once the socket has closed (either side). */
  readonly closed: Promise<void>;
  /** Codec context for what we send and read; set by {@link ScriptedConnection.handshake}. */
  ctx: CodecContext = { fourOctetAs: false, extendedMessages: false };
  /** Every item read so far, for failure messages. */
  readonly log: Received[] = [];
  readonly #framer = new MessageFramer();
  readonly #queue: Received[] = [];
  readonly #waiters: Array<(r: Received) => void> = [];
  #isClosed = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    // Writes after the other side has closed fail with EPIPE/ECONNRESET: expected in these tests.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        this.#push({ kind: 'closed' });
        resolve();
      }),
    );
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #onData(chunk: Uint8Array): void {
    for (const frame of this.#framer.push(chunk)) {
      if (!frame.ok) {
        this.#push({ kind: 'invalid', result: { reason: frame.reason } });
        return;
      }
      const result = decodeMessage(frame.bytes, this.ctx);
      this.#push(result.outcome === 'ok' ? { kind: 'message', message: result.message } : { kind: 'invalid', result });
    }
  }

  #push(r: Received): void {
    if (this.log.at(-1)?.kind === 'closed') return;
    this.log.push(r);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(r);
    else this.#queue.push(r);
  }

  /** The next item read, waiting up to `timeoutMs`. After the close, always `closed`. */
  next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Received> {
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      // Keep the close sticky so later reads see it too.
      if (queued.kind === 'closed') this.#queue.unshift(queued);
      return Promise.resolve(queued);
    }
    let resolver: ((r: Received) => void) | undefined;
    const waiter = new Promise<Received>((resolve) => {
      resolver = resolve;
      this.#waiters.push(resolve);
    });
    return withTimeout('a message', waiter, timeoutMs).catch((err: unknown) => {
      const i = resolver === undefined ? -1 : this.#waiters.indexOf(resolver);
      if (i >= 0) this.#waiters.splice(i, 1);
      throw err;
    });
  }

  /**
   * Reads until a message of `type`, skipping the types in `skip` (KEEPALIVE and UPDATE by
   * default); throws on anything else, a close included.
   */
  async expect<T extends BgpMessage['type']>(
    type: T,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    skip: ReadonlyArray<BgpMessage['type']> = ['keepalive', 'update'],
  ): Promise<Extract<BgpMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.next(Math.max(1, deadline - Date.now()));
      if (r.kind === 'message' && r.message.type === type) return r.message as Extract<BgpMessage, { type: T }>;
      if (r.kind === 'message' && skip.includes(r.message.type)) continue;
      throw new Error(`scripted peer: wanted ${type.toUpperCase()}, got ${describe(r)} (read so far: ${this.log.map(describe).join(', ')})`);
    }
  }

  /** Reads until a NOTIFICATION, skipping any OPEN, KEEPALIVE or UPDATE before it. */
  expectNotification(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<NotificationMessage> {
    return this.expect('notification', timeoutMs, ['open', 'keepalive', 'update']);
  }

  /** Takes everything read but not yet consumed (a close stays queued for later reads). */
  drain(): Received[] {
    const items = this.#queue.splice(0);
    if (items.at(-1)?.kind === 'closed') this.#queue.push({ kind: 'closed' });
    return items;
  }

  /** The NOTIFICATIONs read so far. */
  get notifications(): NotificationMessage[] {
    return this.log.flatMap((r) => (r.kind === 'message' && r.message.type === 'notification' ? [r.message] : []));
  }

  /** Writes raw octets; resolves once handed to the kernel (or at once if the socket is gone). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Encodes a message with the codec and writes it. */
  send(message: BgpMessage): Promise<void> {
    return this.write(encodeMessage(message, this.ctx));
  }

  /** Our OPEN, as the codec encodes it: IPv4 unicast, route refresh, 4-octet AS. */
  static open(o: ScriptedOpen): OpenMessage {
    return {
      type: 'open',
      asn: o.asn,
      holdTime: o.holdTime,
      bgpId: o.bgpId,
      capabilities: {
        multiprotocol: [{ afi: 1, safi: 1 }],
        routeRefresh: true,
        extendedMessage: false,
        fourOctetAs: true,
        unknown: [],
      },
    };
  }

  /**
   * A valid OPEN exchange (RFC 4271 §8.2.2, the other side active): read its OPEN, send ours
   * and a KEEPALIVE, read its KEEPALIVE. Both sides are then Established. Returns its OPEN.
   */
  async handshake(o: ScriptedOpen, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<OpenMessage> {
    const theirs = await this.expect('open', timeoutMs);
    await this.send(ScriptedConnection.open(o));
    await this.send({ type: 'keepalive' });
    this.ctx = { fourOctetAs: theirs.capabilities.fourOctetAs, extendedMessages: false };
    await this.expect('keepalive', timeoutMs);
    return theirs;
  }

  /** Closes our side after flushing (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Aborts the connection with a TCP RST. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A TCP listener handing out {@link ScriptedConnection}s in arrival order. */
export class ScriptedPeer {
  readonly #server: net.Server;
  readonly #connections: ScriptedConnection[] = [];
  readonly #queue: ScriptedConnection[] = [];
  readonly #waiters: Array<(c: ScriptedConnection) => void> = [];

  private constructor(server: net.Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      const conn = new ScriptedConnection(socket);
      this.#connections.push(conn);
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter(conn);
      else this.#queue.push(conn);
    });
  }

  /** Listens on 127.0.0.1, on a port the kernel picks. */
  static async listen(): Promise<ScriptedPeer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new ScriptedPeer(server);
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#connections.length;
  }

  /**
   * The next connection not yet handed out that is still open; waits up to `timeoutMs`.
   * Connections that closed before the script got to them (e.g. an attempt the other side
   * abandoned) are skipped.
   */
  async accept(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ScriptedConnection> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let conn = this.#queue.shift();
      if (conn === undefined) {
        let resolver: ((c: ScriptedConnection) => void) | undefined;
        const waiter = new Promise<ScriptedConnection>((resolve) => {
          resolver = resolve;
          this.#waiters.push(resolve);
        });
        conn = await withTimeout('a connection', waiter, Math.max(1, deadline - Date.now())).catch((err: unknown) => {
          const i = resolver === undefined ? -1 : this.#waiters.indexOf(resolver);
          if (i >= 0) this.#waiters.splice(i, 1);
          throw err;
        });
      }
      if (!conn.isClosed) return conn;
    }
  }

  /**
   * Accepts connections until one completes {@link ScriptedConnection.handshake}; a connection
   * that drops during the exchange (the other side gave up on it) is skipped.
   */
  async acceptSession(o: ScriptedOpen, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ScriptedConnection> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const conn = await this.accept(Math.max(1, deadline - Date.now()));
      try {
        await conn.handshake(o, Math.max(1, deadline - Date.now()));
        return conn;
      } catch (err) {
        last = err;
        if (!conn.isClosed) throw err;
      }
    }
    throw new Error(`scripted peer: no session within ${timeoutMs} ms`, { cause: last });
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const conn of this.#connections) conn.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Misbehaviours: broken octets and the answer RFC 4271 §6 / RFC 7606 / RFC 6608 require.

export const MARKER = new Array<number>(16).fill(0xff);
const u16 = (n: number): number[] => [n >> 8, n & 0xff];

/** A message with a correct header around `body`. */
export const message = (type: number, body: number[] = []): Uint8Array => Uint8Array.from([...MARKER, ...u16(19 + body.length), type, ...body]);
/** A bare header with whatever length and type. */
export const header = (length: number, type: number): Uint8Array => Uint8Array.from([...MARKER, ...u16(length), type]);

/** A path attribute with a one-octet length (RFC 4271 §4.3); `length` overrides the real one. */
export const attr = (flags: number, type: number, value: number[], length = value.length): number[] => [flags, type, length, ...value];
const ORIGIN_IGP = attr(0x40, 1, [0]);
// 4-octet AS numbers: both sides advertise the capability (RFC 6793).
const AS_PATH = attr(0x40, 2, [2, 1, 0, 0, ...u16(65_001)]);
const NEXT_HOP = attr(0x40, 3, [192, 0, 2, 1]);
const NLRI = [24, 198, 51, 100];

/** An UPDATE (RFC 4271 §4.3); the two length fields can be overridden to lie. */
export function update(p: { withdrawn?: number[]; attrs?: number[]; nlri?: number[]; withdrawnLength?: number; attrLength?: number }): Uint8Array {
  const withdrawn = p.withdrawn ?? [];
  const attrs = p.attrs ?? [...ORIGIN_IGP, ...AS_PATH, ...NEXT_HOP];
  const nlri = p.nlri ?? NLRI;
  return message(2, [...u16(p.withdrawnLength ?? withdrawn.length), ...withdrawn, ...u16(p.attrLength ?? attrs.length), ...attrs, ...nlri]);
}

/** Deterministic noise (an LCG), never starting with 0xff so the marker is surely broken. */
export function garbage(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out[i] = x >>> 24;
  }
  out[0] = 0x42;
  return out;
}

/** What the speaker under test must do about a misbehaviour. */
export type Expected =
  | { readonly notification: readonly [code: number, subcode: number, data?: readonly number[]]; readonly reason: SessionDownReason }
  /** RFC 7606 §2: no NOTIFICATION, the session stays up. */
  | { readonly treatAsWithdraw: true }
  /**
   * The connection ends (either side closes it) without a NOTIFICATION from the speaker;
   * `reason` of the down event, when there is one (a session past OpenSent).
   */
  | { readonly silentClose: true; readonly reason?: SessionDownReason };

/** One scripted misbehaviour. */
export interface Misbehaviour {
  readonly name: string;
  /** Where the script misbehaves: before its OPEN is accepted, or on an Established session. */
  readonly phase: 'openSent' | 'established';
  /** Hold time of the script's OPEN when it establishes first. */
  readonly holdTime?: number;
  /** Does the bad thing; `open` is the script's valid OPEN, for cases that send one. */
  readonly act: (conn: ScriptedConnection, open: ScriptedOpen) => Promise<void>;
  readonly expected: Expected;
}

/** The misbehaviours of the issue (bad marker, bad length, unknown type, malformed attributes, hold time 1) and a few more. */
export const MISBEHAVIOURS: readonly Misbehaviour[] = [
  {
    name: 'answers a marker that is not all ones with Connection Not Synchronized (1/1)',
    phase: 'established',
    act: (c) => c.write(Uint8Array.from([0xff, 0x00, ...MARKER.slice(2), ...u16(19), 4])),
    expected: { notification: [1, 1, []], reason: 'messageHeaderError' },
  },
  {
    name: 'answers a length below 19 with Bad Message Length (1/2) carrying the length',
    phase: 'established',
    act: (c) => c.write(header(18, 4)),
    expected: { notification: [1, 2, [0, 18]], reason: 'messageHeaderError' },
  },
  {
    name: 'answers a length above 4096 with Bad Message Length (1/2) carrying the length',
    phase: 'established',
    act: (c) => c.write(header(4097, 2)),
    expected: { notification: [1, 2, [0x10, 0x01]], reason: 'messageHeaderError' },
  },
  {
    name: 'answers a 20-octet KEEPALIVE with Bad Message Length (1/2)',
    phase: 'established',
    act: (c) => c.write(message(4, [0])),
    expected: { notification: [1, 2, [0, 20]], reason: 'messageHeaderError' },
  },
  {
    name: 'answers an unknown message type 7 with Bad Message Type (1/3) carrying the type',
    phase: 'established',
    act: (c) => c.write(message(7)),
    expected: { notification: [1, 3, [7]], reason: 'messageHeaderError' },
  },
  {
    name: 'treats an UPDATE with ORIGIN value 3 as withdraw, no NOTIFICATION (RFC 7606 §7.1)',
    phase: 'established',
    holdTime: 3,
    act: (c) => c.write(update({ attrs: [...attr(0x40, 1, [3]), ...AS_PATH, ...NEXT_HOP] })),
    expected: { treatAsWithdraw: true },
  },
  {
    name: 'treats an attribute overrunning the path attributes as withdraw, no NOTIFICATION (RFC 7606 §4)',
    phase: 'established',
    holdTime: 3,
    // NEXT_HOP claims 9 octets, 4 are left before the Total Path Attribute Length ends.
    act: (c) => c.write(update({ attrs: [...ORIGIN_IGP, ...AS_PATH, ...attr(0x40, 3, [192, 0, 2, 1], 9)] })),
    expected: { treatAsWithdraw: true },
  },
  {
    name: 'answers a Total Path Attribute Length overrunning the message with Malformed Attribute List (3/1)',
    phase: 'established',
    act: (c) => c.write(update({ attrLength: 200 })),
    expected: { notification: [3, 1, []], reason: 'updateMessageError' },
  },
  {
    name: 'answers a Withdrawn Routes Length overrunning the message with Malformed Attribute List (3/1)',
    phase: 'established',
    act: (c) => c.write(update({ withdrawnLength: 300 })),
    expected: { notification: [3, 1, []], reason: 'updateMessageError' },
  },
  {
    name: 'answers an NLRI prefix length of 33 with Invalid Network Field (3/10, RFC 7606 §5.3)',
    phase: 'established',
    act: (c) => c.write(update({ nlri: [33, 198, 51, 100, 1, 0] })),
    expected: { notification: [3, 10, []], reason: 'updateMessageError' },
  },
  {
    name: 'answers an NLRI prefix cut short by the message end with Invalid Network Field (3/10)',
    phase: 'established',
    act: (c) => c.write(update({ nlri: [24, 198, 51] })),
    expected: { notification: [3, 10, []], reason: 'updateMessageError' },
  },
  {
    name: 'answers an unrecognized well-known attribute with 3/2 carrying the attribute',
    phase: 'established',
    act: (c) => c.write(update({ attrs: [...ORIGIN_IGP, ...AS_PATH, ...NEXT_HOP, ...attr(0x40, 99, [1, 2])] })),
    expected: { notification: [3, 2, [0x40, 99, 2, 1, 2]], reason: 'updateMessageError' },
  },
  {
    name: 'answers an OPEN on an Established session with FSM Error (5/3, RFC 6608)',
    phase: 'established',
    act: (c, open) => c.send(ScriptedConnection.open(open)),
    expected: { notification: [5, 3, []], reason: 'fsmError' },
  },
  {
    name: 'sends Hold Timer Expired (4/0) when the peer goes silent past a 3 s hold time',
    phase: 'established',
    holdTime: 3,
    act: () => Promise.resolve(),
    expected: { notification: [4, 0, []], reason: 'holdTimerExpired' },
  },
  {
    name: 'survives the peer closing in the middle of an UPDATE',
    phase: 'established',
    act: async (c) => {
      await c.write(update({}).subarray(0, 30));
      c.end();
    },
    expected: { silentClose: true, reason: 'tcpConnectionFails' },
  },
  {
    name: 'survives the peer resetting the connection in the middle of an UPDATE',
    phase: 'established',
    act: async (c) => {
      await c.write(update({}).subarray(0, 30));
      c.reset();
    },
    expected: { silentClose: true, reason: 'tcpConnectionFails' },
  },
  {
    name: 'closes without answering when the peer sends a NOTIFICATION and leaves the connection open',
    phase: 'established',
    act: (c) => c.send({ type: 'notification', code: 6, subcode: 4, data: new Uint8Array(0) }),
    expected: { silentClose: true, reason: 'notificationReceived' },
  },
  {
    name: 'answers garbage before the OPEN with Connection Not Synchronized (1/1)',
    phase: 'openSent',
    act: (c) => c.write(garbage(64)),
    expected: { notification: [1, 1, []], reason: 'messageHeaderError' },
  },
  {
    name: 'answers an OPEN with hold time 1 with Unacceptable Hold Time (2/6)',
    phase: 'openSent',
    act: async (c, open) => {
      await c.expect('open');
      await c.send(ScriptedConnection.open({ ...open, holdTime: 1 }));
    },
    expected: { notification: [2, 6, []], reason: 'openMessageError' },
  },
  {
    name: 'answers an OPEN of version 3 with Unsupported Version Number (2/1) carrying version 4',
    phase: 'openSent',
    act: async (c, open) => {
      await c.expect('open');
      const bytes = encodeMessage(ScriptedConnection.open(open), c.ctx);
      bytes[19] = 3;
      await c.write(bytes);
    },
    expected: { notification: [2, 1, [0, 4]], reason: 'openMessageError' },
  },
  {
    name: 'answers an OPEN from another AS with Bad Peer AS (2/2)',
    phase: 'openSent',
    act: async (c, open) => {
      await c.expect('open');
      await c.send(ScriptedConnection.open({ ...open, asn: open.asn + 1 }));
    },
    expected: { notification: [2, 2, []], reason: 'openMessageError' },
  },
  {
    name: 'answers an UPDATE instead of the KEEPALIVE after the OPEN with FSM Error (5/2, RFC 6608)',
    phase: 'openSent',
    act: async (c, open) => {
      await c.expect('open');
      await c.write(Uint8Array.from([...encodeMessage(ScriptedConnection.open(open), c.ctx), ...update({})]));
    },
    expected: { notification: [5, 2, []], reason: 'fsmError' },
  },
  {
    name: 'answers a KEEPALIVE instead of an OPEN with FSM Error (5/1, RFC 6608)',
    phase: 'openSent',
    act: async (c) => {
      await c.expect('open');
      await c.write(message(4));
    },
    expected: { notification: [5, 1, []], reason: 'fsmError' },
  },
  {
    name: 'survives the peer closing in the middle of its OPEN',
    phase: 'openSent',
    act: async (c, open) => {
      await c.expect('open');
      await c.write(encodeMessage(ScriptedConnection.open(open), c.ctx).subarray(0, 25));
      c.end();
    },
    expected: { silentClose: true },
  },
];
