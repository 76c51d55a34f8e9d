import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experiment, layer, snapshot } from '@strata/test-support';
import { ApiStub } from './api-stub';

// Builds the publishable bundles (as `npm run build -w @strata/sdk` does, minus declarations)
// into a temp dir and checks what an app would ship.
const out = mkdtempSync(join(tmpdir(), 'strata-sdk-build-'));
let sizes: Record<string, { minified: number; gzip: number }>;

beforeAll(async () => {
  const { buildSdk } = await import(pathToFileURL(join(__dirname, '../scripts/build.mjs')).href);
  sizes = await buildSdk(out, { declarations: false });
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('published bundle', () => {
  it('is at most 10 kB minified + gzipped (ESM)', () => {
    expect(sizes['index.mjs'].gzip).toBeLessThanOrEqual(10 * 1024);
    expect(sizes['react.mjs'].gzip).toBeLessThanOrEqual(2 * 1024);
  });

  it('keeps the RE2 engine out of the entry, in a lazily loaded chunk of at most 50 kB', () => {
    const chunks = Object.keys(sizes).filter((f) => f.startsWith('regex-'));
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    for (const f of chunks) expect(sizes[f].gzip).toBeLessThanOrEqual(50 * 1024);
    for (const f of ['index.mjs', 'index.cjs']) expect(readFileSync(join(out, f), 'utf8')).not.toMatch(/RE2JSSyntaxException/);
  });

  it('evaluates regex targeting with RE2 from both module formats (backtracking bombs included)', async () => {
    const stub = new ApiStub(
      snapshot(
        [layer('L')],
        [
          experiment('digits', 'L', {
            variants: [{ key: 'only', weight: 1 }],
            targeting: { attribute: 'id', operator: 'regex', value: '^(\\w|\\d)+$' },
          }),
        ],
      ),
    );
    const url = await stub.start();
    try {
      const esm = await import(pathToFileURL(join(out, 'index.mjs')).href);
      const cjs = createRequire(__filename)(join(out, 'index.cjs'));
      for (const mod of [esm, cjs]) {
        const client = mod.createClient({ apiUrl: url, sdkKey: 'sdk-test-key', flushIntervalMs: 60_000 });
        expect(await client.ready()).toBe(true);
        expect(client.getVariant('digits', 'u1', { id: '1234' })).toBe('only');
        // 999 digits and a '!': JavaScript's RegExp would backtrack 2^999 times here.
        expect(client.getVariant('digits', 'u1', { id: `${'1'.repeat(999)}!` })).toBeNull();
        await client.close();
      }
    } finally {
      await stub.stop();
    }
  });

  it('carries no zod, no Node built-ins and no React copy', () => {
    for (const f of ['index.mjs', 'index.cjs', 'react.mjs', 'react.cjs', ...Object.keys(sizes).filter((n) => n.startsWith('regex-'))]) {
      const code = readFileSync(join(out, f), 'utf8');
      expect(code).not.toMatch(/\bzod\b|ZodError/);
      expect(code).not.toMatch(/from\s*["']node:|require\(["'](node:)?(fs|http|https|net|crypto|zlib|path)["']\)/);
      expect(code).not.toMatch(/react\.production|__SECRET_INTERNALS|__CLIENT_INTERNALS/);
    }
    expect(readFileSync(join(out, 'react.mjs'), 'utf8')).toMatch(/from\s*["']react["']/);
  });

  it('works from both module formats in Node', async () => {
    const stub = new ApiStub(snapshot([layer('L')], [experiment('exp', 'L', { variants: [{ key: 'only', weight: 1 }] })]));
    const url = await stub.start();
    try {
      const esm = await import(pathToFileURL(join(out, 'index.mjs')).href);
      const cjs = createRequire(__filename)(join(out, 'index.cjs'));
      for (const mod of [esm, cjs]) {
        const client = mod.createClient({ apiUrl: url, sdkKey: 'sdk-test-key' });
        expect(await client.getVariantAsync('exp', 'u1')).toBe('only');
        await client.close();
      }
      expect(
        stub
          .eventBatches()
          .flat()
          .filter((e) => e.type === 'exposure'),
      ).toHaveLength(2);
    } finally {
      await stub.stop();
    }
  });
});
