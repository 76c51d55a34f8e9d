import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// .mts: the package is CommonJS for the repo-wide type check (node16 resolution, extensionless
// imports), so the config opts into ESM by its extension.

/** The dashboard consumes the libraries from source. */
const aliases = {
  '@strata/contracts/regex': here('../../libs/contracts/src/regex-pattern.ts'),
  '@strata/contracts': here('../../libs/contracts/src/index.ts'),
  '@strata/stats': here('../../libs/stats/src/index.ts'),
};

const contractsSrc = here('../../libs/contracts/src/');

/**
 * Contracts' schemas check `regex` patterns with RE2 (re2js, ~150 kB minified) when the module
 * loads; the dashboard never parses targeting with them. Its own `./regex-pattern` import is
 * answered by a loader (src/lib/regex-check.ts) so the engine is fetched only when a rule uses it.
 */
function lazyRe2(): Plugin {
  return {
    name: 'strata-lazy-re2',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './regex-pattern' && importer?.startsWith(contractsSrc)) return here('src/lib/regex-check.ts');
      return null;
    },
  };
}

export default defineConfig({
  root: here('.'),
  plugins: [lazyRe2(), react()],
  resolve: { alias: aliases },
  build: { outDir: here('dist'), emptyOutDir: true },
  server: {
    proxy: {
      '/v1': 'http://localhost:3000',
      '/health': 'http://localhost:3000',
    },
  },
});
