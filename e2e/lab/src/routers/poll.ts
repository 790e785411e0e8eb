import { LabError } from '../errors.js';

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between probes (default 200 ms); CLI polls cost 13-95 ms each, so not much less. */
  intervalMs?: number;
  /** Rethrow a probe's error at once instead of retrying until the deadline. */
  failFast?: boolean;
  /** Appended to the timeout message: what the last probe saw. */
  detail?: () => string;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, with a deadline. A probe that
 * throws is retried (the daemon may still be starting) unless `failFast`; the last error is
 * the timeout's cause.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (opts.failFast) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = opts.detail?.();
      throw new LabError('CommandFailed', `timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail}` : ''}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
