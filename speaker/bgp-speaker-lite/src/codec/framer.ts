/**
 * Cuts a TCP byte stream into BGP messages, checking each header before waiting for its body.
 *
 * ```
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Marker (16 octets, all ones)               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Length (2)           |   Type (1)    |  body (Length - 19 octets) ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * RFC 4271 §6.1: a marker not all ones is Connection Not Synchronized; a Length below 19 or
 * above the maximum (4096, or 65535 once RFC 8654 extended messages are negotiated), or
 * wrong for the type, is Bad Message Length with the Length field as data; a Type outside
 * 1..5 is Bad Message Type with the Type as data. After such an error the stream cannot be
 * resynchronised: the framer yields the NOTIFICATION to send once and then stays failed.
 * @module
 */
import { HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, MessageHeaderSubcode, ErrorCode } from './constants.js';
import { BgpCodecError } from './errors.js';
import { checkHeader, markerIntact, notification } from './header.js';
import type { NotificationMessage, SessionResetReason } from './types.js';

/** One framing step: a complete message's octets, or the header error that ends the session. */
export type Frame =
  | { ok: true; type: number; bytes: Uint8Array }
  | { ok: false; reason: SessionResetReason; notification: NotificationMessage };

/** Options of a {@link MessageFramer}. */
export interface MessageFramerOptions {
  /** 4096 (the default) until extended messages are negotiated, then 65535 (RFC 8654 §4). */
  maxMessageLength?: number;
}

const INITIAL_CAPACITY = 8192;

/**
 * Reassembles BGP messages from TCP chunks. Pure: no sockets, no timers.
 *
 * ```ts
 * for (const frame of framer.push(chunk)) {
 *   if (!frame.ok) { send(frame.notification); close(); break; }
 *   handle(decodeMessage(frame.bytes, ctx));
 * }
 * ```
 * Frames are cut lazily while iterating, so a `maxMessageLength` raised after the OPEN
 * exchange applies to the very next frame.
 */
export class MessageFramer {
  #buf = new Uint8Array(INITIAL_CAPACITY);
  #start = 0;
  #end = 0;
  #max: number;
  #failed: Frame | undefined;

  constructor(options: MessageFramerOptions = {}) {
    this.#max = MessageFramer.#checkMax(options.maxMessageLength ?? MAX_MESSAGE_LENGTH);
  }

  static #checkMax(n: number): number {
    if (!Number.isInteger(n) || n < MAX_MESSAGE_LENGTH || n > MAX_EXTENDED_MESSAGE_LENGTH) {
      throw new BgpCodecError('value-out-of-range', `maxMessageLength ${n} is not in ${MAX_MESSAGE_LENGTH}..${MAX_EXTENDED_MESSAGE_LENGTH}`);
    }
    return n;
  }

  /** The largest message accepted. */
  get maxMessageLength(): number {
    return this.#max;
  }

  set maxMessageLength(n: number) {
    this.#max = MessageFramer.#checkMax(n);
  }

  /** Octets received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /** The header error that stopped the framer, if any. */
  get failure(): Frame | undefined {
    return this.#failed;
  }

  /** Drops buffered octets and any failure, as for a new connection. */
  reset(): void {
    this.#start = 0;
    this.#end = 0;
    this.#failed = undefined;
  }

  /** Appends a chunk and returns an iterator over the frames now complete. Chunks after a failure are ignored. */
  push(chunk: Uint8Array): IterableIterator<Frame> {
    if (this.#failed === undefined) this.#append(chunk);
    return this.#frames();
  }

  *#frames(): Generator<Frame, void, undefined> {
    for (let frame = this.next(); frame !== undefined; frame = this.next()) {
      yield frame;
      if (!frame.ok) return;
    }
  }

  /** The next frame, or undefined until more octets arrive (and forever after a failure). */
  next(): Frame | undefined {
    if (this.#failed !== undefined) return undefined;
    const available = this.#end - this.#start;
    if (available < HEADER_LENGTH) {
      // A broken marker is reported as soon as it shows, without waiting for the rest of the header.
      if (!markerIntact(this.#buf, this.#start, available)) return this.#fail(this.#notSynchronized());
      return undefined;
    }
    const header = checkHeader(this.#buf, this.#start, this.#max);
    if (!header.ok) return this.#fail({ ok: false, reason: header.reason, notification: header.notification });
    if (available < header.length) return undefined;
    const bytes = this.#buf.slice(this.#start, this.#start + header.length);
    this.#start += header.length;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
    }
    return { ok: true, type: header.type, bytes };
  }

  #notSynchronized(): Frame {
    return {
      ok: false,
      reason: 'connection-not-synchronized',
      notification: notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.CONNECTION_NOT_SYNCHRONIZED),
    };
  }

  #fail(frame: Frame): Frame {
    this.#failed = frame;
    this.#start = 0;
    this.#end = 0;
    return frame;
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      if (live + chunk.length > this.#buf.length) {
        const grown = new Uint8Array(Math.max(this.#buf.length * 2, live + chunk.length));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}
