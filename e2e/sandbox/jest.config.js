import { jestConfig } from '../../jest.base.js';
// The int test brings the whole sandbox up and down (about 30 s) as root.
export default jestConfig({ int: true, intTimeoutMs: 90_000 });
