import { describe, expect, it } from '@jest/globals';
import {
  decodeMessage,
  encodeMessage,
  ErrorCode,
  MessageFramer,
  MessageHeaderSubcode,
  parsePrefix,
  RouteRefreshSubcode,
  type CodecContext,
  type Frame,
  type UpdateMessage,
} from './index.js';

const ctx: CodecContext = { fourOctetAs: true, extendedMessages: false };
const KEEPALIVE = encodeMessage({ type: 'keepalive' }, ctx);

function header(length: number, type: number): Uint8Array {
  const out = new Uint8Array(Math.max(19, length)).fill(0);
  out.fill(0xff, 0, 16);
  out[16] = length >> 8;
  out[17] = length & 0xff;
  out[18] = type;
  return out;
}

function frames(framer: MessageFramer, ...chunks: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  for (const chunk of chunks) out.push(...framer.push(chunk));
  return out;
}

function bigUpdate(count: number): UpdateMessage {
  const nlri = Array.from({ length: count }, (_, i) => parsePrefix(`10.${(i >> 8) & 255}.${i & 255}.0/24`));
  return {
    type: 'update',
    withdrawn: [],
    attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '192.0.2.1' },
    nlri,
  };
}

describe('MessageFramer', () => {
  it('cuts back-to-back messages out of one chunk', () => {
    const update = encodeMessage(bigUpdate(3), ctx);
    const got = frames(new MessageFramer(), Buffer.concat([KEEPALIVE, update, KEEPALIVE]));
    expect(got.map((f) => (f.ok ? f.type : -1))).toEqual([4, 2, 4]);
    expect(got[1]).toEqual({ ok: true, type: 2, bytes: update });
  });

  it('reassembles messages fed one octet at a time', () => {
    const stream = Buffer.concat([encodeMessage(bigUpdate(40), ctx), KEEPALIVE]);
    const framer = new MessageFramer();
    const got = frames(framer, ...Array.from(stream, (b) => Uint8Array.of(b)));
    expect(got).toHaveLength(2);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('holds a partial message until the rest arrives', () => {
    const framer = new MessageFramer();
    expect(frames(framer, KEEPALIVE.subarray(0, 10))).toEqual([]);
    expect(framer.bufferedBytes).toBe(10);
    expect(frames(framer, KEEPALIVE.subarray(10))).toHaveLength(1);
  });

  it('reports Connection Not Synchronized as soon as a marker octet is wrong', () => {
    const framer = new MessageFramer();
    const got = frames(framer, Uint8Array.of(0xff, 0xff, 0x00));
    expect(got).toEqual([
      {
        ok: false,
        reason: 'connection-not-synchronized',
        notification: { type: 'notification', code: ErrorCode.MESSAGE_HEADER_ERROR, subcode: MessageHeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, data: new Uint8Array(0) },
      },
    ]);
  });

  it('reports Bad Message Length with the Length field as data for lengths below 19 and above 4096', () => {
    for (const length of [0, 18, 4097, 65535]) {
      const got = frames(new MessageFramer(), header(length, 4).subarray(0, 19));
      expect(got).toEqual([
        {
          ok: false,
          reason: 'bad-message-length',
          notification: expect.objectContaining({ code: 1, subcode: 2, data: Uint8Array.of(length >> 8, length & 0xff) }),
        },
      ]);
    }
  });

  it('reports Bad Message Length for lengths wrong for the type (RFC 4271 §6.1)', () => {
    for (const [length, type] of [
      [20, 4], // KEEPALIVE is exactly 19
      [28, 1], // OPEN is at least 29
      [22, 2], // UPDATE is at least 23
      [20, 3], // NOTIFICATION is at least 21
    ] as const) {
      const [frame] = frames(new MessageFramer(), header(length, type));
      expect(frame).toEqual(expect.objectContaining({ ok: false, reason: 'bad-message-length' }));
    }
  });

  it('reports Bad Message Type with the Type field as data for types outside 1..5', () => {
    for (const type of [0, 6, 255]) {
      const [frame] = frames(new MessageFramer(), header(19, type));
      expect(frame).toEqual({
        ok: false,
        reason: 'bad-message-type',
        notification: expect.objectContaining({ code: 1, subcode: 3, data: Uint8Array.of(type) }),
      });
    }
  });

  it('checks the header before the body has arrived', () => {
    const [frame] = frames(new MessageFramer(), header(5000, 2).subarray(0, 19));
    expect(frame).toEqual(expect.objectContaining({ ok: false, reason: 'bad-message-length' }));
  });

  it('stays failed after a header error until reset', () => {
    const framer = new MessageFramer();
    expect(frames(framer, header(19, 9))).toHaveLength(1);
    expect(frames(framer, KEEPALIVE)).toEqual([]);
    expect(framer.failure).toEqual(expect.objectContaining({ reason: 'bad-message-type' }));
    framer.reset();
    expect(frames(framer, KEEPALIVE)).toEqual([{ ok: true, type: 4, bytes: KEEPALIVE }]);
  });

  it('accepts UPDATEs up to 65535 octets once extended messages are negotiated, but never a longer OPEN', () => {
    const extended: CodecContext = { fourOctetAs: true, extendedMessages: true };
    const update = encodeMessage(bigUpdate(1500), extended);
    expect(update.length).toBeGreaterThan(4096);
    expect(frames(new MessageFramer(), update)).toEqual([expect.objectContaining({ ok: false, reason: 'bad-message-length' })]);
    expect(frames(new MessageFramer({ maxMessageLength: 65535 }), update)).toEqual([{ ok: true, type: 2, bytes: update }]);
    expect(frames(new MessageFramer({ maxMessageLength: 65535 }), header(4097, 1))).toEqual([
      expect.objectContaining({ ok: false, reason: 'bad-message-length' }),
    ]);
  });

  it('applies a raised maximum to the next frame of the same chunk', () => {
    const extended: CodecContext = { fourOctetAs: true, extendedMessages: true };
    const update = encodeMessage(bigUpdate(1500), extended);
    const framer = new MessageFramer();
    const got: Frame[] = [];
    for (const frame of framer.push(Buffer.concat([KEEPALIVE, update]))) {
      got.push(frame);
      framer.maxMessageLength = 65535; // e.g. the KEEPALIVE completed the OPEN exchange
    }
    expect(got.map((f) => f.ok)).toEqual([true, true]);
  });
});

describe('decodeMessage header checks', () => {
  it('gives the same header errors as the framer', () => {
    expect(decodeMessage(header(19, 7), ctx)).toEqual(expect.objectContaining({ outcome: 'session-reset', reason: 'bad-message-type' }));
    const broken = KEEPALIVE.slice();
    broken[3] = 0;
    expect(decodeMessage(broken, ctx)).toEqual(expect.objectContaining({ outcome: 'session-reset', reason: 'connection-not-synchronized' }));
    expect(decodeMessage(header(4097, 2), ctx)).toEqual(expect.objectContaining({ outcome: 'session-reset', reason: 'bad-message-length' }));
  });

  it('rejects input shorter than a header or different from its Length field', () => {
    expect(decodeMessage(KEEPALIVE.subarray(0, 10), ctx)).toEqual(expect.objectContaining({ reason: 'bad-message-length' }));
    expect(decodeMessage(Buffer.concat([KEEPALIVE, Uint8Array.of(0)]), ctx)).toEqual(
      expect.objectContaining({ reason: 'bad-message-length', notification: expect.objectContaining({ data: Uint8Array.of(0, 19) }) }),
    );
  });

  it('answers a ROUTE-REFRESH of the wrong length with ROUTE-REFRESH Message Error carrying the message (RFC 7313 §5)', () => {
    const wrong = header(24, 5);
    expect(decodeMessage(wrong, ctx)).toEqual({
      ok: false,
      outcome: 'session-reset',
      reason: 'invalid-route-refresh-length',
      notification: { type: 'notification', code: ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR, subcode: RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, data: wrong },
      errors: [],
    });
  });
});
