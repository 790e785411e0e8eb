import { jestConfig } from '../../jest.base.js';

// The integration test brings up its own multi-node cluster (about 3 minutes with
// warm caches): it needs neither the shared loopback control plane that the base
// config's global setup starts, nor the base 60 s bound.
const config = jestConfig({ int: true, intTimeoutMs: 300_000 });
for (const p of config.projects) {
  delete p.globalSetup;
  delete p.globalTeardown;
}
export default config;
