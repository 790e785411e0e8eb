/**
 * Exit codes, and the mapping from errors to them. Scripts rely on these; the README's
 * "Exit codes" section and `herald --help` state the same table.
 * @packageDocumentation
 */
import { HeraldError, errorMessage, isHeraldError, statusCode } from '@herald/shared/core';

/** What `herald` exits with. */
export const EXIT = {
  /** The command worked and what it looked at is healthy (import: everything converted). */
  ok: 0,
  /** The command worked, but what it looked at is unhealthy (import: something was not converted as is). */
  unhealthy: 1,
  /** Bad command line or unreadable input text (the problem is in what was typed). */
  usage: 2,
  /** The API server cannot be reached or refused the request, or the object does not exist. */
  unreachable: 3,
  /** A bug in herald itself. */
  internal: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command-line mistake: printed with a hint to `--help`, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code for an error a command threw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return EXIT.usage;
  if (isHeraldError(err)) {
    switch (err.code) {
      case 'InvalidFlag':
        return EXIT.usage;
      case 'InvalidConfig':
      case 'KubeApi':
      case 'NotFound':
      case 'Conflict':
      case 'Timeout':
      case 'Aborted':
        return EXIT.unreachable;
      case 'Internal':
        return EXIT.internal;
    }
  }
  // An API failure that reached us unwrapped still names an HTTP status.
  if (statusCode(err) !== undefined) return EXIT.unreachable;
  return EXIT.internal;
}

/** The one line printed after `herald: ` for an error. */
export function errorLine(err: unknown): string {
  if (err instanceof UsageError) return err.message;
  if (isHeraldError(err)) return err.message;
  return `internal error: ${errorMessage(err)}`;
}

/** A missing object, as a {@link HeraldError} with code NotFound (exit 3). */
export function notFound(message: string): HeraldError {
  return new HeraldError('NotFound', message);
}
