import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApi } from '../../src/cli/simulator/admin-api';
import { simulateCli } from '../../src/cli/simulator/simulate-cli';
import { simulate } from '../../src/cli/simulator/simulator';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/**
 * The traffic simulator (the core behind `npm run simulate` and the demo seeding) drives the SDK
 * against the real API, and the results endpoint detects the configured effect with its sign.
 */
let t: TestApp;
let api: AdminApi;
let sdkKey: string;

beforeAll(async () => {
  // The rollup watermark normally trails the clock by 10 s; the test reads results at once.
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  const base = await t.listen();
  api = new AdminApi(base, TEST_ADMIN_KEY);
  sdkKey = (await api.createSdkKey('simulator it')).secret;
  await api.call('POST', '/v1/layers', { key: 'sim', name: 'Simulation' });
  await api.call('POST', '/v1/metrics', { key: 'checkout', name: 'Checkout', type: 'conversion', eventName: 'checkout' });
  await api.call('POST', '/v1/metrics', {
    key: 'latency',
    name: 'Latency',
    type: 'mean',
    eventName: 'page_load_ms',
    direction: 'decrease',
  });
  for (const [key, metric] of [
    ['sim-up', 'checkout'],
    ['sim-down', 'latency'],
  ]) {
    await api.call('POST', '/v1/experiments', {
      key,
      name: key,
      layer: 'sim',
      traffic: 50,
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
      primaryMetric: metric,
    });
    // Backdated: the simulator spreads arrivals over the last 3 days, and exposures before the start are rejected.
    await api.call('POST', `/v1/experiments/${key}/start`, { startedAt: new Date(Date.now() - 3 * 86_400_000 - 3_600_000).toISOString() });
  }
});
afterAll(async () => {
  await t?.close();
});

const base = () => api.baseUrl;

describe('simulator', () => {
  it('produces results that detect a positive lift on a conversion metric', async () => {
    const summary = await simulate({
      apiUrl: base(),
      sdkKey,
      experiment: 'sim-up',
      variants: ['control', 'treatment'],
      units: 8000,
      days: 3,
      seed: 7,
      // A fixed prefix makes the unit ids, so the assignment and the data, the same on every run.
      unitPrefix: 'simit-up',
      metrics: [{ eventName: 'checkout', type: 'conversion', baseline: 0.2, effect: 0.3 }],
    });
    // Half the layer's traffic: about 4,000 units land in the experiment, split evenly.
    expect(summary.exposures).toBeGreaterThan(3600);
    expect(summary.exposures).toBeLessThan(4400);
    expect(summary.variants.control.units + summary.variants.treatment.units).toBe(summary.exposures);
    expect(summary.stats).toMatchObject({ queued: 0, dropped: 0, failures: 0 });
    expect(summary.observedLift.checkout.treatment).toBeGreaterThan(0.15);

    const results = await api.resultsAfter('sim-up', summary.finishedAt, 20_000);
    expect(results.totalUnits).toBe(summary.exposures);
    const primary = results.metrics.find((m) => m.metric === 'checkout')!;
    const treatment = primary.variants.find((v) => v.variant === 'treatment')!;
    expect(treatment.units).toBe(summary.variants.treatment.units);
    const lift = treatment.relative!.fixed;
    expect(lift.significant).toBe(true);
    expect(lift.ci![0]).toBeGreaterThan(0);
    // The API's estimate is computed from exactly the data the simulator generated.
    expect(lift.estimate).toBeCloseTo(summary.observedLift.checkout.treatment, 9);
    expect(lift.estimate).toBeGreaterThan(0.15);
    expect(lift.estimate).toBeLessThan(0.45);
    // Exposure timestamps are spread over the simulated days, not all "now".
    const span: { days: number }[] = await t.dataSource.query(
      `SELECT extract(epoch FROM max(ts) - min(ts)) / 86400 AS days FROM events WHERE type = 'exposure' AND experiment_key = 'sim-up'`,
    );
    expect(Number(span[0].days)).toBeGreaterThan(2.5);
  });

  it('detects a negative effect on a mean metric with the right sign', async () => {
    const summary = await simulate({
      apiUrl: base(),
      sdkKey,
      experiment: 'sim-down',
      variants: ['control', 'treatment'],
      units: 6000,
      days: 2,
      seed: 11,
      unitPrefix: 'simit-down',
      metrics: [{ eventName: 'page_load_ms', type: 'mean', baseline: 800, effect: -0.2 }],
    });
    const results = await api.resultsAfter('sim-down', summary.finishedAt, 20_000);
    const lift = results.metrics.find((m) => m.metric === 'latency')!.variants.find((v) => v.variant === 'treatment')!.relative!.fixed;
    expect(lift.significant).toBe(true);
    expect(lift.ci![1]).toBeLessThan(0);
    expect(lift.estimate).toBeCloseTo(summary.observedLift.page_load_ms.treatment, 9);
    expect(lift.estimate).toBeGreaterThan(-0.3);
    expect(lift.estimate).toBeLessThan(-0.1);
  });

  describe('npm run simulate', () => {
    const run = async (args: string[]): Promise<{ code: number; lines: string[] }> => {
      const lines: string[] = [];
      const code = await simulateCli([...args, '--url', base(), '--key', TEST_ADMIN_KEY], { out: (l) => lines.push(l), progress: false, env: {} });
      return { code, lines };
    };
    const simulatorKeys = async (): Promise<{ name: string; revokedAt: string | null }[]> =>
      (await api.call<{ items: { name: string; revokedAt: string | null }[] }>('GET', '/v1/api-keys?limit=500')).items.filter((k) => k.name.startsWith('simulator 2'));

    beforeAll(async () => {
      await api.call('POST', '/v1/layers', { key: 'sim-geo', name: 'Targeted simulation' });
      await api.call('POST', '/v1/experiments', {
        key: 'sim-target',
        name: 'sim-target',
        layer: 'sim-geo',
        traffic: 100,
        variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
        targeting: { match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['DE', 'FR'] }] },
        primaryMetric: 'checkout',
      });
      await api.call('POST', '/v1/experiments/sim-target/start', { startedAt: new Date(Date.now() - 86_400_000 - 3_600_000).toISOString() });
    });

    it('feeds a targeted experiment with --attributes, and leaves no usable SDK key behind', async () => {
      const { code, lines } = await run(['--experiment', 'sim-target', '--units', '3000', '--days', '1', '--seed', '3', '--unit-prefix', 'simcli', '--attributes', 'country=DE,FR,US', '--attributes', 'platform=ios,android']);
      expect(code, lines.join('\n')).toBe(0);
      // Only DE and FR units match (about two thirds), and their exposures carry the attributes.
      const stored: { country: string; platform: string; n: string }[] = await t.dataSource.query(
        `SELECT attributes->>'country' AS country, attributes->>'platform' AS platform, count(*) AS n FROM first_exposures WHERE experiment_key = 'sim-target' GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      expect(stored.map((r) => `${r.country}/${r.platform}`)).toEqual(['DE/android', 'DE/ios', 'FR/android', 'FR/ios']);
      const total = stored.reduce((n, r) => n + Number(r.n), 0);
      expect(total).toBeGreaterThan(1800);
      expect(total).toBeLessThan(2200);
      const results = await api.results('sim-target');
      expect(results.totalUnits).toBe(total);
      expect(lines.some((l) => l.startsWith('Results ('))).toBe(true);
      const keys = await simulatorKeys();
      expect(keys.length).toBe(1);
      expect(keys.every((k) => k.revokedAt !== null)).toBe(true);
    });

    it('says what to do when no unit matches the targeting (exit 1), and still revokes its key', async () => {
      const { code, lines } = await run(['--experiment', 'sim-target', '--units', '200', '--days', '1', '--seed', '4']);
      expect(code).toBe(1);
      expect(lines.join('\n')).toMatch(/none of the 200 units entered "sim-target".*--attributes country=DE,FR/s);
      const keys = await simulatorKeys();
      expect(keys.length).toBe(2);
      expect(keys.every((k) => k.revokedAt !== null)).toBe(true);
    });
  });
});
