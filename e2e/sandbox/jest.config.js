import { jestConfig } from '../../jest.base.js';
// The int test brings the whole sandbox up (a real cluster, image builds: minutes when cold) and down, as root.
export default jestConfig({ int: true, intTimeoutMs: 180_000 });
