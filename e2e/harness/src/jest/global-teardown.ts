import '../jest/global-setup.js';

/** Stops the control plane that global setup started, if it started one. */
export default async function globalTeardown(): Promise<void> {
  const cp = globalThis.__heraldControlPlane;
  if (!cp) return;
  globalThis.__heraldControlPlane = undefined;
  delete process.env['HERALD_TEST_KUBECONFIG'];
  await cp.stop();
}
