/** Codes for everything the harness can fail at; callers branch on `code`. */
export type HarnessErrorCode =
  | 'ToolsMissing'
  | 'ToolsBuildFailed'
  | 'PkiFailed'
  | 'StartFailed'
  | 'NotReady'
  | 'CrdInstallFailed'
  | 'BadState'
  | 'Usage';

/** The harness's single error type: a fixed code, a message with context, an optional cause. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
