import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runningExperiment, startApiProcess, type ApiProcess } from '@strata/test-support/api';
import { describeInBrowser, launchBrowser } from './browser';

/*
 * The published SDK bundle in a real browser, on a page served from another origin than the API
 * (another port), as a web shop would embed it with a client key: the config snapshot, remote
 * assignment and event delivery all cross origins, so the browser's CORS checks (preflights
 * included) decide whether any of it works.
 */
const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>shop</title>
<script type="module">
  import { createClient } from './index.mjs';
  window.runSdk = async (apiUrl, sdkKey, unitId) => {
    const errors = [];
    const local = createClient({ apiUrl, sdkKey, onError: (e) => errors.push(String(e)) });
    const ready = await local.ready();
    const variant = local.getVariant('checkout', unitId, { country: 'DE' });
    local.track(unitId, 'purchase', 12.5);
    await local.close();
    const remote = createClient({ apiUrl, sdkKey, mode: 'remote', onError: (e) => errors.push(String(e)) });
    const remoteVariant = await remote.getVariantAsync('checkout', unitId, { country: 'DE' });
    await remote.close();
    return { ready, variant, remoteVariant, errors };
  };
</script>`;

describeInBrowser('the SDK in a browser page on another origin', () => {
  let t: ApiProcess;
  let api: string;
  let sdkDir: string;
  let pageServer: Server;
  let pageUrl: string;
  let browser: Browser;
  let page: Page;
  let clientKey: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    t = await startApiProcess();
    api = t.baseUrl;
    // A layer and a running 50/50 experiment, once the collector's catalog knows it.
    await runningExperiment(t, 'checkout');
    clientKey = (await t.admin('POST', '/v1/api-keys', { name: 'shop', type: 'sdk-client' })).body.secret;

    sdkDir = mkdtempSync(join(tmpdir(), 'strata-sdk-e2e-'));
    const { buildSdk } = await import(pathToFileURL(join(__dirname, '../../../libs/sdk/scripts/build.mjs')).href);
    await buildSdk(sdkDir, { declarations: false });
    // Every module file of the bundle (the entry imports shared chunks since the SDK has several entries).
    const modules = new Map(readdirSync(sdkDir).filter((f) => f.endsWith('.mjs')).map((f) => [`/${f}`, readFileSync(join(sdkDir, f))]));
    expect(modules.has('/index.mjs')).toBe(true);
    pageServer = createServer((req, res) => {
      const file = modules.get(req.url ?? '');
      if (file) res.writeHead(200, { 'content-type': 'text/javascript' }).end(file);
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    const address = pageServer.address();
    // `localhost` here, 127.0.0.1 for the API: another host and another port, so another origin.
    pageUrl = `http://localhost:${typeof address === 'object' && address ? address.port : 0}/`;

    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (pageServer ? pageServer.close(resolve) : resolve(undefined)));
    await t?.close();
    if (sdkDir) rmSync(sdkDir, { recursive: true, force: true });
  });

  it('loads the snapshot, assigns locally and remotely like the server, and delivers the events', async () => {
    await page.goto(pageUrl);
    await page.waitForFunction(() => typeof (window as unknown as { runSdk?: unknown }).runSdk === 'function');
    const unitId = 'browser-user-1';
    const result = await page.evaluate(
      ([apiUrl, key, unit]) =>
        (window as unknown as { runSdk: (a: string, k: string, u: string) => Promise<unknown> }).runSdk(apiUrl, key, unit),
      [api, clientKey, unitId] as const,
    );
    const server = await t.request('POST', '/v1/assign', { key: clientKey, body: { unitId, attributes: { country: 'DE' } } });
    const expected = server.body.assignments.find((a: { experiment: string }) => a.experiment === 'checkout').variant;
    expect(result).toEqual({ ready: true, variant: expected, remoteVariant: expected, errors: [] });
    expect(consoleErrors).toEqual([]);
    // close() flushed: the exposure (once, deduplicated by the SDK) and the purchase are stored.
    const rows: { type: string; variant_key: string | null; value: number | null }[] = await t.query(
      'SELECT type, variant_key, value FROM events WHERE unit_id = $1 ORDER BY type',
      [unitId],
    );
    expect(rows.map((r) => [r.type, r.variant_key, r.value === null ? null : Number(r.value)])).toEqual(
      expect.arrayContaining([
        ['exposure', expected, null],
        ['metric', null, 12.5],
      ]),
    );
  });
});
