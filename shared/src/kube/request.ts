/**
 * Per-request deadlines for client-node's generated APIs. They have no timeout of their
 * own, and a request to an API server that stopped answering (without closing the
 * connection) hangs forever, which would freeze a lease renewal past its deadline.
 * @packageDocumentation
 */
import { Observable } from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import { HeraldError } from '../core/errors.js';

/** The per-call options argument of client-node 1.x API methods. */
export type RequestOptions = ConfigurationOptions<ObservableMiddleware>;

/** Options that make a client-node API call abort with `signal` (its fetch is cancelled). */
export function abortOptions(signal: AbortSignal): RequestOptions {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new Observable(Promise.resolve(ctx)),
      },
    ],
    // Keep whatever middleware the API object was configured with.
    middlewareMergeStrategy: 'append',
  };
}

/**
 * Runs `call` with a deadline of `ms` on `clock`. The request is aborted at the deadline
 * and the promise rejects with a HeraldError `Timeout` naming `what`, even if `call`
 * ignores its options (as test fakes do).
 */
export async function callWithTimeout<T>(clock: Clock, ms: number, what: string, call: (options: RequestOptions) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      ac.abort();
      reject(new HeraldError('Timeout', `${what}: no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([call(abortOptions(ac.signal)), deadline]);
  } catch (err) {
    if (ac.signal.aborted) throw new HeraldError('Timeout', `${what}: no answer within ${ms} ms`, { cause: err });
    throw err;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}
