import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// .mts: the package is CommonJS for the repo-wide type check (node16 resolution, extensionless
// imports), so the config opts into ESM by its extension.

/** The dashboard consumes the libraries from source. */
const aliases = {
  '@strata/contracts': here('../../libs/contracts/src/index.ts'),
  '@strata/stats': here('../../libs/stats/src/index.ts'),
};

export default defineConfig({
  root: here('.'),
  plugins: [react()],
  resolve: { alias: aliases },
  build: { outDir: here('dist'), emptyOutDir: true },
  server: {
    proxy: {
      '/v1': 'http://localhost:3000',
      '/health': 'http://localhost:3000',
    },
  },
});
