/**
 * The one error type of the codec. Only the encoder and the text parsers throw it, for values a
 * caller built that cannot go on the wire (RFC 4271 §4 field widths); the decoder never throws
 * and reports malformed input through its result instead.
 * @module
 */

/** Fixed set of codec error codes. */
export type BgpCodecErrorCode =
  | 'invalid-address'
  | 'invalid-prefix'
  | 'invalid-community'
  | 'invalid-route'
  | 'value-out-of-range'
  | 'message-too-long';

/** Thrown by the encoder and the text parsers for values that cannot be encoded. */
export class BgpCodecError extends Error {
  readonly code: BgpCodecErrorCode;

  constructor(code: BgpCodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BgpCodecError';
    this.code = code;
  }
}
