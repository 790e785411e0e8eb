/** Codes for everything the lab can fail at; callers branch on `code`. */
export type LabErrorCode =
  | 'NotRoot'
  | 'BadOptions'
  | 'NameTaken'
  | 'CommandFailed'
  | 'UnknownHost'
  | 'Destroyed'
  | 'ForwarderFailed'
  | 'BadOutput';

/** The lab's single error type: a fixed code, a message with context, an optional cause. */
export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(
    readonly code: LabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
