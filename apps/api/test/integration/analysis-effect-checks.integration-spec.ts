import type { HeterogeneityDto, NoveltyDto } from '@strata/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, backdatedStart, createMetric, sendEvents, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Novelty and heterogeneity of the primary metric's effect in GET /results, from the engine's
 * stored per-day and per-segment slices: data sent through the HTTP API, backdated over a week.
 */

const DAY = 86_400_000;

describe('novelty and heterogeneity in the results', () => {
  let t: TestApp;
  let sdkKey: string;

  beforeAll(async () => {
    t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
    sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
    await createMetric(t, { key: 'fx_buy', type: 'count', eventName: 'fx_buy', cupedLookbackDays: 0 });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  async function start(key: string, segmentDimensions: string[]): Promise<number> {
    expect((await t.admin('POST', '/v1/layers', { key: `${key}-layer`, name: key })).status).toBe(201);
    const created = await t.admin('POST', '/v1/experiments', {
      key, name: key, layer: `${key}-layer`, traffic: 100, primaryMetric: 'fx_buy',
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
      segmentDimensions,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const startedAt = backdatedStart();
    expect((await t.admin('POST', `/v1/experiments/${key}/start`, { startedAt })).status).toBe(200);
    return new Date(startedAt).getTime();
  }

  async function results(key: string): Promise<{ novelty: NoveltyDto[]; heterogeneity: HeterogeneityDto[] }> {
    await t.app.get(AnalysisEngineService).tick();
    const res = await t.admin('GET', `/v1/experiments/${key}/results`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { novelty: NoveltyDto[]; heterogeneity: HeterogeneityDto[] };
  }

  it('flags a treatment effect that fades over the exposure days with a negative slope', async () => {
    const key = 'fx-novelty';
    const startMs = await start(key, ['country']);
    const units = Array.from({ length: 7 * 60 }, (_, i) => `fx-nov-u${i}`);
    const variants = await assignedVariants(t, sdkKey, key, units);
    const events: SentEvent[] = [];
    const bonus = [4, 3, 2, 1, 0, 0, 0];
    units.forEach((u, i) => {
      const day = Math.floor(i / 60);
      const variant = variants.get(u);
      if (!variant) return;
      const at = startMs + day * DAY + 60_000;
      events.push({ type: 'exposure', unitId: u, experiment: key, variant, timestamp: new Date(at).toISOString() });
      const count = (i % 3) + (variant === 'treatment' ? bonus[day] : 0);
      for (let k = 0; k < count; k++) events.push({ type: 'metric', unitId: u, name: 'fx_buy', timestamp: new Date(at + 1_000 + k).toISOString() });
    });
    await sendEvents(t, sdkKey, events);
    const body = await results(key);
    expect(body.novelty).toHaveLength(1);
    const n = body.novelty[0];
    expect(n).toMatchObject({ method: 'weighted-trend-knapp-hartung', metric: 'fx_buy', variant: 'treatment', flagged: true, pattern: 'fading' });
    expect(n.reason).toBeUndefined();
    expect(n.slope).toBeLessThan(0);
    expect(n.cohorts.length).toBeGreaterThanOrEqual(6);
    // The first day's cohort carries the big effect, the last ones none.
    expect(n.cohorts[0].estimate).toBeGreaterThan(2.5);
    expect(Math.abs(n.cohorts[n.cohorts.length - 1].estimate)).toBeLessThan(1);
    // Only "(none)" for country: heterogeneity is not defined and says why.
    expect(body.heterogeneity).toEqual([expect.objectContaining({ dimension: 'country', flagged: false, reason: 'fewer than 2 segments with data' })]);
  });

  it('flags the dimension whose segments differ and leaves a homogeneous one alone', async () => {
    const key = 'fx-hetero';
    const startMs = await start(key, ['country', 'platform']);
    const units = Array.from({ length: 400 }, (_, i) => `fx-het-u${i}`);
    const variants = await assignedVariants(t, sdkKey, key, units);
    const events: SentEvent[] = [];
    units.forEach((u, i) => {
      const variant = variants.get(u);
      if (!variant) return;
      const country = i % 2 === 0 ? 'DE' : 'FR';
      const platform = Math.floor(i / 2) % 2 === 0 ? 'ios' : 'android';
      const at = startMs + 2 * DAY;
      events.push({ type: 'exposure', unitId: u, experiment: key, variant, timestamp: new Date(at).toISOString(), attributes: { country, platform } });
      const count = (i % 3) + (variant === 'treatment' && country === 'DE' ? 3 : 0);
      for (let k = 0; k < count; k++) events.push({ type: 'metric', unitId: u, name: 'fx_buy', timestamp: new Date(at + 1_000 + k).toISOString() });
    });
    await sendEvents(t, sdkKey, events);
    const body = await results(key);
    const byDim = new Map(body.heterogeneity.map((h) => [h.dimension, h]));
    expect(byDim.get('country')).toMatchObject({ method: 'cochran-q', metric: 'fx_buy', variant: 'treatment', df: 1, flagged: true });
    expect(byDim.get('country')?.highlighted.length).toBeGreaterThan(0);
    expect(byDim.get('platform')).toMatchObject({ df: 1, flagged: false, highlighted: [] });
    expect(byDim.get('platform')?.reason).toBeUndefined();
    // One exposure day: novelty is not defined and says why.
    expect(body.novelty).toEqual([expect.objectContaining({ variant: 'treatment', flagged: false, reason: 'fewer than 3 exposure-day cohorts' })]);
  });
});
