import { jestConfig } from '../../jest.base.js';

// The integration test brings up its own cluster and builds Herald's images: it needs neither
// the shared loopback control plane of the base config's global setup, nor the base 60 s bound.
const config = jestConfig({ int: true, intTimeoutMs: 900_000 });
for (const p of config.projects) {
  delete p.globalSetup;
  delete p.globalTeardown;
}
export default config;
