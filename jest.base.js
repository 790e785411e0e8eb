// Shared Jest settings for every workspace. Herald is ESM, so Jest runs with
// --experimental-vm-modules and ts-jest emits ESM. Two projects per package:
//   unit: *.test.ts  (pure, no I/O beyond loopback, fast)
//   int:  *.int.test.ts against the real local kube-apiserver, started once per
//         run by the harness's global setup (or reused from HERALD_TEST_KUBECONFIG).
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  roots: ['<rootDir>/src'],
};

/** @param {{ int?: boolean, unitTimeoutMs?: number, intTimeoutMs?: number }} opts */
export function jestConfig(opts = {}) {
  const projects = [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/dist/'],
    },
  ];
  if (opts.int) {
    projects.push({
      ...common,
      displayName: 'int',
      testMatch: ['**/*.int.test.ts'],
      testPathIgnorePatterns: ['/dist/'],
      globalSetup: '@herald/e2e-harness/jest/global-setup',
      globalTeardown: '@herald/e2e-harness/jest/global-teardown',
    });
  }
  // testTimeout is a global option (ignored inside projects): the int tier's bound applies to all.
  return { projects, passWithNoTests: false, testTimeout: opts.int ? (opts.intTimeoutMs ?? 60_000) : (opts.unitTimeoutMs ?? 10_000) };
}
