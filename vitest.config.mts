import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['libs/*/vitest.config.mts', 'apps/*/vitest.config.mts', 'apps/dashboard/e2e/vitest.config.mts'],
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
