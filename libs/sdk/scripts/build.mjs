#!/usr/bin/env node
// Builds @strata/sdk into dist/: ESM (.mjs) + CJS (.cjs) bundles for `index` and `react`
// (Vite library mode, minified, react external) and .d.ts declarations (tsc), then prints the
// min+gzip size of each bundle. `node scripts/build.mjs --out <dir>` builds elsewhere (tests).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkgDir, '../..');
const require = createRequire(import.meta.url);

/** Vite is a dev dependency of the workspace (the dashboard's); resolve it from there. */
function resolveVite() {
  for (const from of [pkgDir, join(root, 'apps/dashboard'), join(root, 'node_modules/vitest')]) {
    try {
      return require.resolve('vite', { paths: [from] });
    } catch {
      // try the next place
    }
  }
  throw new Error('vite is not installed (npm install at the repository root)');
}

export async function buildSdk(outDir = join(pkgDir, 'dist'), { declarations = true } = {}) {
  const { build } = await import(pathToFileURL(resolveVite()).href);
  await build({
    configFile: false,
    logLevel: 'warn',
    root: pkgDir,
    resolve: {
      alias: {
        // The RE2 engine, imported lazily by the SDK (its own chunk); before the package's alias, which would match it too.
        '@strata/bucketing/regex': join(root, 'libs/bucketing/src/regex.ts'),
        '@strata/bucketing': join(root, 'libs/bucketing/src/index.ts'),
        '@strata/contracts': join(root, 'libs/contracts/src/index.ts'),
      },
    },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2020',
      minify: true,
      sourcemap: true,
      lib: {
        entry: {
          index: join(pkgDir, 'src/index.ts'),
          react: join(pkgDir, 'src/react/index.ts'),
          'openfeature-server': join(pkgDir, 'src/openfeature/server.ts'),
          'openfeature-web': join(pkgDir, 'src/openfeature/web.ts'),
        },
        formats: ['es', 'cjs'],
        fileName: (format, name) => `${name}.${format === 'es' ? 'mjs' : 'cjs'}`,
      },
      // The OpenFeature SDKs are the app's (optional peers): never bundled.
      rollupOptions: { external: ['react', 'react/jsx-runtime', 'react-dom', /^@openfeature\//] },
    },
  });
  if (declarations) emitDeclarations(outDir);
  return sizes(outDir);
}

/**
 * tsc writes declarations for every file it reaches (bucketing, contracts) under a common root;
 * only the SDK's own are kept. The public ones (index, types, client, react) import nothing but
 * each other and react, which `assertSelfContained` checks.
 */
function emitDeclarations(outDir) {
  const tmp = mkdtempSync(join(tmpdir(), 'strata-sdk-dts-'));
  try {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', join(pkgDir, 'tsconfig.build.json'), '--outDir', tmp],
      { stdio: 'inherit' },
    );
    const own = join(tmp, 'sdk/src');
    cpSync(own, join(outDir, 'types'), { recursive: true, filter: (p) => !/\.spec\.d\.ts$/.test(p) });
    for (const f of ['index.d.ts', 'client.d.ts', 'types.d.ts', 'react/index.d.ts', 'openfeature/server.d.ts', 'openfeature/web.d.ts', 'openfeature/resolve.d.ts', 'openfeature/provider-base.d.ts']) {
      const text = readFileSync(join(outDir, 'types', f), 'utf8');
      if (/from ['"]@strata\//.test(text))
        throw new Error(`dist/types/${f} imports a workspace package: the published types would not resolve`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Size of each bundle as an app would ship it: Vite keeps whitespace in ES library output (for
 * tree-shaking annotations), so the .mjs files are minified again with rolldown (Vite's bundler)
 * before gzip; the .cjs files are measured as built (already minified).
 */
export async function sizes(outDir) {
  const { build } = await import(pathToFileURL(require.resolve('rolldown', { paths: [root] })).href);
  const out = {};
  for (const f of readdirSync(outDir).filter((n) => /\.(mjs|cjs)$|^regex-.*\.js$/.test(n))) {
    let code = readFileSync(join(outDir, f));
    if (f.endsWith('.mjs')) {
      const result = await build({
        input: join(outDir, f),
        external: [/^react/, /^@openfeature\//],
        write: false,
        logLevel: 'silent',
        output: { format: 'esm', minify: true },
      });
      code = Buffer.from(result.output[0].code);
    }
    out[f] = { minified: code.length, gzip: gzipSync(code, { level: 9 }).length };
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? resolve(process.argv[i + 1]) : join(pkgDir, 'dist');
  const result = await buildSdk(outDir);
  for (const [file, s] of Object.entries(result))
    console.log(
      `${file.padEnd(12)} ${(s.minified / 1024).toFixed(1).padStart(6)} kB min  ${(s.gzip / 1024).toFixed(1).padStart(5)} kB min+gzip`,
    );
  if (!existsSync(join(outDir, 'types/index.d.ts'))) process.exit(1);
}
