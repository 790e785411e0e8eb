// Lint rules for every workspace. Two house rules are enforced here:
// - no console in packages (pino is injected; CLIs write to process.stdout/stderr on purpose);
// - no deep imports across packages: import a package by its exports map only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'jest.base.js', '**/jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@herald/*/src/*', '@herald/*/dist/*', '@herald/*/internal/*', 'bgp-speaker-lite/*'],
              message: 'Import other packages through their exports map only (no deep imports).',
            },
            {
              group: ['**/controller/src/*', '**/speaker/src/*', '**/shared/src/*', '**/harness/src/*'],
              message: 'Do not reach into another package by relative path; depend on it and import its public entry.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      complexity: ['warn', 20],
      'max-depth': ['warn', 4],
    },
  },
);
