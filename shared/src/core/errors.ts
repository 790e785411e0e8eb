/**
 * Herald's one error type and helpers that read Kubernetes API failures.
 * @packageDocumentation
 */

/**
 * What went wrong, as a fixed set: callers branch on the code, logs and metrics label
 * by it, and the message carries the details.
 */
export type HeraldErrorCode =
  /** Configuration (a kubeconfig, a custom resource, a config file) is unusable. */
  | 'InvalidConfig'
  /** A command-line flag or environment variable is invalid. */
  | 'InvalidFlag'
  /** The Kubernetes API failed in a way not covered by a more specific code. */
  | 'KubeApi'
  /** Optimistic concurrency lost (HTTP 409): re-read and try again. */
  | 'Conflict'
  /** The object does not exist (HTTP 404). */
  | 'NotFound'
  /** An operation did not finish in time. */
  | 'Timeout'
  /** The operation was cancelled because its owner is stopping. */
  | 'Aborted'
  /** A bug: an invariant does not hold. */
  | 'Internal';

/** Every {@link HeraldErrorCode}, for validation and exhaustive tests. */
export const HERALD_ERROR_CODES: readonly HeraldErrorCode[] = [
  'InvalidConfig',
  'InvalidFlag',
  'KubeApi',
  'Conflict',
  'NotFound',
  'Timeout',
  'Aborted',
  'Internal',
];

/**
 * The error Herald throws. The message carries context (`read Lease herald/ctl: ...`);
 * `cause` keeps the original error for logs.
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  readonly code: HeraldErrorCode;

  constructor(code: HeraldErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link HeraldError}, optionally with the given code. */
export function isHeraldError(err: unknown, code?: HeraldErrorCode): err is HeraldError {
  return err instanceof HeraldError && (code === undefined || err.code === code);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isHttpStatus = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;

/**
 * The HTTP status of a failed Kubernetes API call, or undefined when `err` is not one.
 * Understands client-node 1.x's `ApiException` (status in `.code`, alongside `.body`), the
 * `statusCode` of its Watch errors, a Status object itself, and follows `cause` chains, so
 * a wrapped error still answers. Node system errors carry string codes (`ECONNREFUSED`)
 * and are not mistaken for statuses.
 */
export function statusCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; isObject(e) && depth < 8; e = e['cause'], depth++) {
    if (e instanceof HeraldError) {
      if (e.code === 'Conflict') return 409;
      if (e.code === 'NotFound') return 404;
      continue;
    }
    if ('body' in e && isHttpStatus(e['code'])) return e['code'];
    if (isHttpStatus(e['statusCode'])) return e['statusCode'];
    if (e['kind'] === 'Status' && isHttpStatus(e['code'])) return e['code'];
  }
  return undefined;
}

/** True for HTTP 409 Conflict: someone else wrote the object first. */
export function isConflict(err: unknown): boolean {
  return statusCode(err) === 409;
}

/** True for HTTP 404 Not Found. */
export function isNotFound(err: unknown): boolean {
  return statusCode(err) === 404;
}

/** The `message` of a metav1.Status, from a parsed body or its JSON text. */
function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  if (isObject(parsed) && typeof parsed['message'] === 'string' && parsed['message'] !== '') return parsed['message'];
  return undefined;
}

/**
 * A one-line description of `err` for logs and conditions. For an `ApiException` this is
 * the API server's own explanation (its Status `.message`, e.g. `leases.coordination.k8s.io
 * "x" not found`) prefixed by the HTTP status, instead of client-node's multi-line message
 * that dumps headers.
 */
export function errorMessage(err: unknown): string {
  if (isObject(err) && 'body' in err && isHttpStatus(err['code'])) {
    const msg = statusMessage(err['body']);
    return msg !== undefined ? `HTTP ${err['code']}: ${msg}` : `HTTP ${err['code']}`;
  }
  if (err instanceof Error) return err.message;
  if (isObject(err)) {
    const msg = statusMessage(err);
    if (msg !== undefined) return msg;
  }
  return String(err);
}

/**
 * Wraps a failed Kubernetes API call as a {@link HeraldError}: 409 becomes `Conflict`, 404
 * `NotFound`, anything else `KubeApi`. `what` names the operation (`replace Lease ns/name`).
 */
export function kubeError(what: string, err: unknown): HeraldError {
  const status = statusCode(err);
  const code: HeraldErrorCode = status === 409 ? 'Conflict' : status === 404 ? 'NotFound' : 'KubeApi';
  return new HeraldError(code, `${what}: ${errorMessage(err)}`, { cause: err });
}
