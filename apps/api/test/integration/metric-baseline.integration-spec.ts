import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * GET /v1/metrics/:key/baseline on real PostgreSQL: events through POST /v1/events, the engine's
 * tick, then the baseline compared with the numbers computed here from the events sent.
 */

let t: TestApp;
let sdkKey: string;

/** Per-unit values of the control arm of one experiment, as the analysis defines them. */
interface ControlValues {
  converted: number[];
  basket: number[];
}

/** Exposes `n` units; each converts with probability `rate` and then sends 1–3 basket values. */
async function seed(key: string, n: number, seedValue: number, rate: number): Promise<ControlValues> {
  const rng = createRng(seedValue);
  const unitIds = Array.from({ length: n }, (_, i) => `${key}-u${i}`);
  const variants = await assignedVariants(t, sdkKey, key, unitIds);
  const now = Date.now();
  const events: SentEvent[] = [];
  const control: ControlValues = { converted: [], basket: [] };
  for (const unitId of unitIds) {
    const variant = variants.get(unitId) as string;
    events.push({ type: 'exposure', unitId, experiment: key, variant, timestamp: isoAgo(120_000, now) });
    let converted = 0;
    let basket = 0;
    if (rng.uniform() < rate) {
      converted = 1;
      events.push({ type: 'metric', unitId, name: 'checkout', timestamp: isoAgo(60_000, now) });
      const items = 1 + Math.floor(rng.uniform() * 3);
      for (let i = 0; i < items; i++) {
        const value = Math.round(rng.uniform() * 10_000) / 100;
        basket += value;
        events.push({ type: 'metric', unitId, name: 'basket', value, timestamp: isoAgo(50_000 - i, now) });
      }
    }
    if (variant === 'control') {
      control.converted.push(converted);
      control.basket.push(basket);
    }
  }
  await sendEvents(t, sdkKey, events);
  return control;
}

function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

let newer: ControlValues;

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'checkout', type: 'conversion', eventName: 'checkout', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'basket', type: 'mean', eventName: 'basket', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'unmeasured', type: 'conversion', eventName: 'never', cupedLookbackDays: 0 });
  await startExperiment(t, { key: 'bl-old', primary: 'checkout', secondary: ['basket'] });
  await startExperiment(t, { key: 'bl-new', primary: 'checkout', secondary: ['basket'] });
  // bl-old started an hour before bl-new: the baseline must come from bl-new.
  await t.dataSource.query("UPDATE experiments SET started_at = started_at - interval '1 hour' WHERE key = 'bl-old'");
  await seed('bl-old', 1_000, 1, 0.5);
  newer = await seed('bl-new', 2_000, 2, 0.12);
  await t.app.get(AnalysisEngineService).catchUp();
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/metrics/:key/baseline', () => {
  it("gives a conversion metric the rate of the most recent experiment's control, with n and the source", async () => {
    const res = await t.admin('GET', '/v1/metrics/checkout/baseline');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const n = newer.converted.length;
    const rate = newer.converted.reduce((s, x) => s + x, 0) / n;
    expect(n).toBeGreaterThan(900);
    expect(res.body).toEqual({
      metric: 'checkout',
      type: 'conversion',
      observed: { kind: 'rate', rate: expect.closeTo(rate, 12), n },
      source: { basis: 'control-of-most-recent-experiment', experiments: ['bl-new'], variant: 'control' },
      reason: null,
    });
  });

  it('gives a mean metric the per-unit mean and SD (units without events count 0)', async () => {
    const res = await t.admin('GET', '/v1/metrics/basket/baseline');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { mean, sd } = meanSd(newer.basket);
    expect(res.body.observed).toEqual({ kind: 'mean', mean: expect.closeTo(mean, 9), sd: expect.closeTo(sd, 9), n: newer.basket.length });
    expect(res.body.source.experiments).toEqual(['bl-new']);
  });

  it('answers observed: null with a reason when no experiment has data, and 404 for an unknown metric', async () => {
    const res = await t.admin('GET', '/v1/metrics/unmeasured/baseline');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ metric: 'unmeasured', observed: null, source: null, reason: expect.stringMatching(/no experiment/i) });
    expect((await t.admin('GET', '/v1/metrics/nope/baseline')).status).toBe(404);
  });
});
