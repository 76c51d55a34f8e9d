import react from '@vitejs/plugin-react';
import { defineProject } from 'vitest/config';
import { aliases } from '../../vitest.shared.mts';

/** Component tests: React in jsdom. The browser end-to-end suite is a separate project (e2e/). */
export default defineProject({
  plugins: [react()],
  resolve: { alias: aliases },
  test: {
    name: 'dashboard',
    environment: 'jsdom',
    include: ['src/**/*.spec.tsx', 'src/**/*.spec.ts'],
    setupFiles: ['./src/test-setup.ts'],
    // user-event types key by key; on a busy 2-core machine the 5 s default is too tight.
    testTimeout: 30_000,
  },
});
