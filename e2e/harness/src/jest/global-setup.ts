import { startControlPlane, type ControlPlane } from '../control-plane.js';

declare global {
  var __heraldControlPlane: ControlPlane | undefined;
}

/**
 * Jest global setup for *.int.test.ts: reuses the control plane named by
 * HERALD_TEST_KUBECONFIG (the root `npm test` starts one for all workspaces),
 * otherwise starts one for this run. Tests read HERALD_TEST_KUBECONFIG.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env['HERALD_TEST_KUBECONFIG']) return;
  const cp = await startControlPlane({ log: (l) => process.stderr.write(`control-plane: ${l}\n`) });
  process.env['HERALD_TEST_KUBECONFIG'] = cp.kubeconfigPath;
  process.env['HERALD_TEST_CONTROL_PLANE_DIR'] = cp.dir;
  globalThis.__heraldControlPlane = cp;
}
