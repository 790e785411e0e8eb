/** Codes for everything building or moving images can fail at; callers branch on `code`. */
export type ImagesErrorCode =
  /** A command line or option the CLI or a function cannot accept. */
  | 'Usage'
  /** buildah, debootstrap, gcc or another host tool is not installed. */
  | 'ToolMissing'
  /** A command exited non-zero or could not start; the message holds its stderr's tail. */
  | 'CommandFailed'
  /** An image was built but is not what it must be (no such image, unreadable size). */
  | 'BadImage';

/** The single error type of @herald/e2e-images: a fixed code, a message with context, an optional cause. */
export class ImagesError extends Error {
  override readonly name = 'ImagesError';
  constructor(
    readonly code: ImagesErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
