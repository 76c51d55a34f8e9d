import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Path aliases shared by every Vitest project: libraries are consumed from source. */
export const aliases = {
  '@strata/contracts/regex': resolve(root, 'libs/contracts/src/regex-pattern.ts'),
  '@strata/contracts': resolve(root, 'libs/contracts/src/index.ts'),
  '@strata/bucketing/regex': resolve(root, 'libs/bucketing/src/regex.ts'),
  '@strata/bucketing': resolve(root, 'libs/bucketing/src/index.ts'),
  '@strata/stats': resolve(root, 'libs/stats/src/index.ts'),
  '@strata/sdk/react': resolve(root, 'libs/sdk/src/react/index.ts'),
  '@strata/sdk/openfeature/server': resolve(root, 'libs/sdk/src/openfeature/server.ts'),
  '@strata/sdk/openfeature/web': resolve(root, 'libs/sdk/src/openfeature/web.ts'),
  '@strata/sdk': resolve(root, 'libs/sdk/src/index.ts'),
  // Test files only (the lint's module boundaries keep production code from importing it).
  '@strata/test-support/api': resolve(root, 'libs/test-support/src/api/index.ts'),
  '@strata/test-support': resolve(root, 'libs/test-support/src/index.ts'),
};

/**
 * A Node project compiled with SWC: esbuild drops decorator metadata, which NestJS
 * dependency injection and TypeORM entities need.
 */
export function nodeProject(name: string, test: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    plugins: [
      swc.vite({
        tsconfigFile: false,
        module: { type: 'es6' },
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true, tsx: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false, react: { runtime: 'automatic' } },
        },
      }),
    ],
    resolve: { alias: aliases },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      ...test,
    },
  });
}
