import { HarnessError } from './errors.js';

/**
 * The kubeconfig of the control plane that this test run shares, as set up by
 * the harness's Jest global setup (or by `control-plane with`).
 */
export function testKubeconfigPath(): string {
  const p = process.env['HERALD_TEST_KUBECONFIG'];
  if (!p) {
    throw new HarnessError('Usage', 'HERALD_TEST_KUBECONFIG is not set: run integration tests through jest (its global setup starts a control plane) or `control-plane with`');
  }
  return p;
}

/**
 * Polls `fn` every `everyMs` until it returns something other than undefined or false,
 * and returns that; after `timeoutMs` fails naming `what` and the last value or error.
 * The one polling helper of the integration and e2e tests.
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
