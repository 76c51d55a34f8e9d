import { rmSync } from 'node:fs';
import type { BatchAssignResponse, ExperimentResultsDto } from '@strata/contracts';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
// The browser suite boots the real API in-process with the API's own test harness, on purpose.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../../api/test/helpers/test-app';
import { DESKTOP, PHONE, describeInBrowser, launchBrowser, snap } from './browser';
import { buildDashboard } from './build-dashboard';


const UNITS = 4000;

describeInBrowser('dashboard in a real browser against the real API', () => {
  let t: TestApp;
  let dist: string;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];

  beforeAll(async () => {
    dist = await buildDashboard();
    // Lag 0: the results read every committed event at once (the default keeps 10 s behind the clock).
    t = await createTestApp({ STRATA_DASHBOARD_DIR: dist, STRATA_ROLLUP_LAG_MS: '0' });
    base = await t.listen();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.request().method()} ${r.url().replace(base, '')}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it('refuses a wrong key, then signs in with the admin key and shows the empty state', async () => {
    await page.goto(`${base}/experiments`);
    // The admin-key path (automation, development) sits behind a secondary link on the sign-in page.
    await page.getByRole('button', { name: 'Use an admin API key instead' }).click();
    await page.getByLabel('Admin API key').fill('sk_admin_not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That key was not accepted');

    await page.getByLabel('Admin API key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Create a layer first' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('strata.adminKey'))).toBe(TEST_ADMIN_KEY);
    await snap(page, 'experiments-empty-1280');
  });

  it('creates a layer through the form', async () => {
    await page.getByRole('link', { name: 'Create a layer' }).click();
    await page.getByRole('button', { name: 'Create your first layer' }).click();
    await page.getByLabel('Key', { exact: true }).fill('homepage');
    await page.getByLabel('Name', { exact: true }).fill('Homepage');
    await page.getByRole('button', { name: 'Create layer' }).click();
    await page.getByTestId('layer-homepage').waitFor();
    expect(await page.getByTestId('layer-homepage').textContent()).toContain('10,000 of 10,000 buckets free');
    const layer = await t.admin('GET', '/v1/layers/homepage');
    expect(layer.body.name).toBe('Homepage');
  });

  it('shows the API validation error next to the field of an invalid metric', async () => {
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.getByRole('button', { name: 'Define your first metric' }).click();
    await page.getByLabel('Key', { exact: true }).fill('Bad Key!');
    await page.getByLabel('Name', { exact: true }).fill('Purchase rate');
    await page.getByLabel('Event name').fill('purchase');
    await page.getByRole('button', { name: 'Create metric' }).click();
    const fieldError = page.locator('.field-error[data-path="key"]');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toContain('must be lowercase letters');
    expect(await page.getByLabel('Key', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await snap(page, 'metric-invalid-1280');
  });

  it('creates a metric through the form', async () => {
    await page.getByLabel('Key', { exact: true }).fill('purchase');
    await page.getByRole('button', { name: 'Create metric' }).click();
    await page.getByRole('cell', { name: /Purchase rate/ }).waitFor();
    const metric = await t.admin('GET', '/v1/metrics/purchase');
    expect(metric.body).toMatchObject({ key: 'purchase', type: 'conversion', eventName: 'purchase', direction: 'increase' });
  });

  it('shows the API error inline for an invalid experiment, then creates it', async () => {
    await page.getByRole('link', { name: 'Experiments' }).click();
    await page.getByRole('link', { name: 'Create your first experiment' }).click();
    await page.getByLabel('Key', { exact: true }).fill('Checkout Button');
    await page.getByLabel('Name', { exact: true }).fill('Checkout button colour');
    await page.getByLabel('Primary metric').selectOption('purchase');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    const keyError = page.locator('.field-error[data-path="key"]');
    await keyError.waitFor();
    expect(await keyError.textContent()).toContain('must be lowercase letters');
    await snap(page, 'experiment-form-invalid-1280');

    await page.getByLabel('Key', { exact: true }).fill('checkout-button');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.getByRole('heading', { name: /Checkout button colour/ }).waitFor();
    const created = await t.admin('GET', '/v1/experiments/checkout-button');
    expect(created.body).toMatchObject({
      layer: 'homepage',
      status: 'draft',
      traffic: 100,
      primaryMetric: 'purchase',
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
    });
  });

  it('starts the experiment after a confirmation that says what will happen', async () => {
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('Starting reserves 10,000 of layer “homepage”’s 10,000 buckets');
    await dialog.getByRole('button', { name: 'Start experiment' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.badge-running').first().waitFor();
    expect((await t.admin('GET', '/v1/experiments/checkout-button')).body.status).toBe('running');
  });

  it('shows a significant lift with its chart once exposures and conversions arrive', async () => {
    const key = await t.admin('POST', '/v1/api-keys', { name: 'e2e server', type: 'sdk-server' });
    expect(key.status).toBe(201);
    const sdk = key.body.secret as string;
    // Assignment serves an in-memory snapshot that follows configuration changes within ~1 s.
    await expect
      .poll(
        async () =>
          (await t.request('POST', '/v1/assign', { key: sdk, body: { unitId: 'probe', experiments: ['checkout-button'] } })).body
            .assignments?.length,
        {
          timeout: 15_000,
          interval: 250,
        },
      )
      .toBe(1);
    for (let start = 0; start < UNITS; start += 1000) {
      const units = Array.from({ length: 1000 }, (_, i) => ({ unitId: `user-${start + i}` }));
      const assigned = await t.request<BatchAssignResponse>('POST', '/v1/assign/batch', {
        key: sdk,
        body: { units, experiments: ['checkout-button'] },
      });
      expect(assigned.status).toBe(200);
      expect(assigned.body.results.filter((r) => r.assignments.length === 1)).toHaveLength(1000);
      const events: unknown[] = [];
      for (const r of assigned.body.results) {
        const a = r.assignments.find((x) => x.experiment === 'checkout-button');
        if (!a) continue;
        const i = Number(r.unitId.slice(5));
        events.push({ type: 'exposure', unitId: r.unitId, experiment: a.experiment, variant: a.variant });
        // 10% of control converts, 20% of treatment: a strong, certain effect at 4,000 units.
        if (i % 10 < (a.variant === 'treatment' ? 2 : 1)) events.push({ type: 'metric', unitId: r.unitId, name: 'purchase' });
      }
      for (let j = 0; j < events.length; j += 1000) {
        const res = await t.request('POST', '/v1/events', { key: sdk, body: { events: events.slice(j, j + 1000) } });
        expect(res.status).toBe(202);
        expect(res.body.rejected).toEqual([]);
      }
    }
    // The rollup advances on read; wait until every unit is counted.
    await expect
      .poll(async () => (await t.admin<ExperimentResultsDto>('GET', '/v1/experiments/checkout-button/results')).body.totalUnits, {
        timeout: 60_000,
        interval: 1000,
      })
      .toBe(UNITS);

    await page.reload();
    const card = page.getByTestId('metric-purchase');
    await card.waitFor({ timeout: 30_000 });
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('treatment increases Purchase rate by');
    expect(text).toContain('this is a significant improvement');
    // The interval is drawn by recharts as a real SVG bar against zero.
    await page.locator('[data-testid="ci-chart"] .recharts-bar-rectangle').first().waitFor();
    await page.locator('[data-testid="lift-timeline"] svg').first().waitFor();
    expect(await page.getByTestId('freshness').textContent()).toContain('4,000 units');
    await snap(page, 'results-1280');
    await page.setViewportSize(PHONE);
    await snap(page, 'results-390');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(DESKTOP);
  });

  it('explains a ramp down in the confirmation dialog', async () => {
    await page.getByRole('button', { name: 'Ramp traffic' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('New traffic (% of the layer)').fill('50');
    expect(await dialog.textContent()).toContain('Ramping down from 100% to 50% releases 5,000 buckets');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('renders every page at desktop and phone widths without console errors', async () => {
    const pages: [string, string][] = [
      ['experiments', '/experiments'],
      ['experiment-edit', '/experiments/checkout-button/edit'],
      ['experiment-new', '/experiments/new'],
      ['layers', '/layers/homepage'],
      ['metrics', '/metrics'],
      ['api-keys', '/api-keys'],
      ['users', '/users'],
      ['audit', '/audit'],
    ];
    for (const [name, path] of pages) {
      for (const [suffix, size] of [
        ['1280', DESKTOP],
        ['390', PHONE],
      ] as const) {
        await page.setViewportSize(size);
        await page.goto(`${base}${path}`);
        await page.locator('main h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        await snap(page, `${name}-${suffix}`);
        // Nothing may force sideways scrolling at this width.
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${suffix}px`).toBeLessThanOrEqual(size.width);
      }
    }
    await page.setViewportSize(DESKTOP);
    await page.goto(`${base}/audit?entityType=experiment&entityKey=checkout-button`);
    await page.getByText('experiment.start').waitFor();
    await page.getByRole('button', { name: 'Show diff' }).first().click();
    const diff = page.getByRole('table', { name: 'Changes of experiment.start on checkout-button' });
    expect(await diff.textContent()).toContain('running');
    await snap(page, 'audit-diff-1280');
    expect(consoleErrors).toEqual([]);
    // Only the deliberate failures of this suite: no session cookie at first, the wrong key and the two invalid forms.
    expect(failedRequests).toEqual(['401 GET /v1/auth/me', '401 GET /v1/layers?limit=1', '400 POST /v1/metrics', '400 POST /v1/experiments']);
  });

  it('signs a person in with e-mail and password, shows their role, hides what it may not do, and signs out', async () => {
    await t.admin('POST', '/v1/users', { email: 'viewer@example.com', role: 'viewer', password: 'a viewer passphrase' });
    const personal = await browser.newContext({ viewport: DESKTOP });
    try {
      const p = await personal.newPage();
      p.setDefaultTimeout(15_000);
      await p.goto(`${base}/experiments`);
      await p.getByLabel('E-mail').fill('viewer@example.com');
      await p.getByLabel('Password').fill('not the passphrase');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => p.getByRole('alert').textContent()).toContain('do not match an active account');
      await p.getByLabel('Password').fill('a viewer passphrase');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Experiments' }).waitFor();
      expect(await p.getByTestId('signed-in-as').textContent()).toContain('viewer@example.com · viewer');
      expect(await p.getByRole('link', { name: 'New experiment' }).count()).toBe(0);
      expect(await p.getByRole('link', { name: 'API keys' }).count()).toBe(0);
      // The cookie is httpOnly (no script sees it) and nothing is kept in the tab's storage.
      expect(await p.evaluate(() => document.cookie)).toBe('');
      expect(await p.evaluate(() => sessionStorage.length)).toBe(0);
      const cookies = await personal.cookies();
      expect(cookies.find((c) => c.name === 'strata_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      // A reload resumes the session from the cookie.
      await p.reload();
      await p.getByTestId('signed-in-as').waitFor();
      await snap(p, 'experiments-viewer-1280');
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.getByLabel('E-mail').waitFor();
      await p.reload();
      await p.getByLabel('E-mail').waitFor();
    } finally {
      await personal.close();
    }
  });
});
