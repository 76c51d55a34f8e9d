// Lint rules are errors, never warnings; no suppression files.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Tests and their helpers (of every project). */
const TEST_FILES = ['**/*.spec.ts', '**/*.spec.tsx', '**/*.integration-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts', 'libs/test-support/**/*.ts'];

/** Which projects may import which, by tag; `extra` is added to every project's list (the test fixtures, for test files). */
function moduleBoundaries(extra) {
  return [
    'error',
    {
      // migrations/ is a plain folder of TypeORM classes, imported by the API's data source.
      allow: ['../../../../migrations'],
      depConstraints: [
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', ...extra] },
        { sourceTag: 'scope:sdk', onlyDependOnLibsWithTags: ['scope:shared', ...extra] },
        { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:shared', 'scope:sdk', ...extra] },
        { sourceTag: 'scope:dashboard', onlyDependOnLibsWithTags: ['scope:shared', ...extra] },
        // libs/test-support: shared test fixtures, imported by test files only (see the block for TEST_FILES).
        { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:shared', 'scope:test'] },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', '.nx/**', 'scratch/**', 'test-artifacts/**', '**/*.js', '**/*.mjs', '**/*.cjs', '**/*.mts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': moduleBoundaries([]),
    },
  },
  {
    // NestJS injects by constructor parameter type: those imports must stay value imports.
    files: ['apps/api/src/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    // Tests read loosely-typed JSON responses, and may import the shared test fixtures.
    files: TEST_FILES,
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@nx/enforce-module-boundaries': moduleBoundaries(['scope:test']) },
  },
);
