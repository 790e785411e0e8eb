import { jestConfig } from '../../jest.base.js';

// Building images needs no API server: the int project here drops the harness's global
// setup, which would start (or wait for) a kube-apiserver for nothing. A cold build
// (debootstrap, npm ci in the builder) takes minutes, hence the long bound.
const config = jestConfig({ int: true, intTimeoutMs: 1_800_000 });
for (const p of config.projects) {
  delete p.globalSetup;
  delete p.globalTeardown;
}
export default config;
