import { nodeProject } from '../../vitest.shared.mts';

export default nodeProject('api', {
  include: ['src/**/*.spec.ts', 'test/**/*.integration-spec.ts', 'test/security/**/*.security-spec.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  // Integration files each get their own database; two at a time suits a 2-core machine.
  maxWorkers: 2,
  // Runs after the pure libraries and component tests (group 0), before the browser suite.
  sequence: { groupOrder: 1 },
});
