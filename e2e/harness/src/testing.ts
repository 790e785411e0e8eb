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
