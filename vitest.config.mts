import { defineConfig } from 'vitest/config';
import MissingChromiumReporter from './apps/dashboard/e2e/missing-chromium.reporter.mts';

export default defineConfig({
  test: {
    projects: ['libs/*/vitest.config.mts', 'apps/*/vitest.config.mts', 'apps/dashboard/e2e/vitest.config.mts'],
    // The second reporter prints, after the summary, which browser tests a missing Chromium skipped.
    reporters: ['default', new MissingChromiumReporter()],
  },
});
