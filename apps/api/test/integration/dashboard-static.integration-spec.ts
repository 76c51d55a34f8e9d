import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * The API serves the built dashboard on the same port: its files, index.html for the client-side
 * routes a browser opens, and the API's JSON errors for everything else — never a file from
 * outside the dashboard's folder, never a misleading 403.
 */
const INDEX = '<!doctype html><title>Strata test dashboard</title>';
const ASSET = 'console.log("strata");';
const html = { accept: 'text/html,application/xhtml+xml' };

let t: TestApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-dashboard-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-1234.js'), ASSET);
  t = await createTestApp({ STRATA_DASHBOARD_DIR: dir });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard files on the API port', () => {
  it('serves index.html, its assets, and index.html for client-side routes opened in a browser', async () => {
    const root = await t.request('GET', '/', { key: null, headers: html });
    expect([root.status, root.text]).toEqual([200, INDEX]);
    const asset = await t.request('GET', '/assets/app-1234.js', { key: null });
    expect(asset.status).toBe(200);
    expect(asset.text).toBe(ASSET);
    expect(String(asset.headers['content-type'])).toContain('javascript');
    const route = await t.request('GET', '/experiments/checkout-button', { key: null, headers: html });
    expect([route.status, route.text]).toEqual([200, INDEX]);
  });

  it('answers a missing asset, an unknown API route and a non-browser request with the JSON 404', async () => {
    for (const [url, headers] of [
      ['/assets/missing-0000.js', html],
      ['/v1/no-such-route', html],
      ['/experiments/checkout-button', { accept: 'application/json' }],
    ] as const) {
      const res = await t.request('GET', url, { key: null, headers });
      expect(res.status, url).toBe(404);
      expect(res.body?.error?.code, url).toBe('route_not_found');
    }
  });

  it('answers a path the file server will not map (too long, dot segments) with 404, not 403, and never a file outside', async () => {
    const long = `/${'a'.repeat(300)}`;
    const json = await t.request('GET', long, { key: null });
    expect([json.status, json.body?.error?.code]).toEqual([404, 'route_not_found']);
    // A browser opening it gets the dashboard, which shows its own "not found" page.
    const browser = await t.request('GET', long, { key: null, headers: html });
    expect([browser.status, browser.text]).toEqual([200, INDEX]);
    for (const url of ['/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd', '//etc/passwd']) {
      const res = await t.request('GET', url, { key: null });
      expect(res.status, url).toBe(404);
      expect(res.body?.error?.code, url).toBe('route_not_found');
      expect(res.text, url).not.toContain('root:');
    }
  });
});
