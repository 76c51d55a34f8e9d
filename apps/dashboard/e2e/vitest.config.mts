import { fileURLToPath } from 'node:url';
import { nodeProject } from '../../../vitest.shared.mts';

/**
 * Browser end-to-end tests: the built dashboard served by the real API (embedded PostgreSQL,
 * started once by the API's global setup), driven by headless Chromium through playwright-core.
 */
export default nodeProject('e2e', {
  root: fileURLToPath(new URL('..', import.meta.url)),
  include: ['e2e/**/*.e2e-spec.ts'],
  globalSetup: ['../api/test/global-setup.ts'],
  testTimeout: 180_000,
  hookTimeout: 300_000,
  // One browser at a time on a 2-core machine.
  maxWorkers: 1,
  fileParallelism: false,
  // Last: after the unit (group 0) and API integration (group 1) tests.
  sequence: { groupOrder: 2 },
});
