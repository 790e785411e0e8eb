import { jestConfig } from '../../jest.base.js';
// Each fault test builds its own bed (and fault 1 its own control plane) and runs for up to
// about a minute on a loaded 2-core machine; the bound is the int tier's global timeout.
export default jestConfig({ int: true, intTimeoutMs: 180_000 });
