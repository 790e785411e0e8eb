/** Codes for everything the cluster can fail at; callers branch on `code`. */
export type ClusterErrorCode =
  | 'NotRoot'
  | 'BadOptions'
  | 'NameTaken'
  | 'AddressTaken'
  | 'MissingTool'
  | 'CommandFailed'
  | 'StartFailed'
  | 'NotReady'
  | 'BadState'
  | 'UnknownHost'
  | 'Usage';

/** The cluster's single error type: a fixed code, a message with context, an optional cause. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
