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
    await createMetric(t, { key: 'fx_win', type: 'count', eventName: 'fx_win', attributionWindowHours: 24, cupedLookbackDays: 0 });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  async function start(key: string, segmentDimensions: string[], primaryMetric = 'fx_buy'): Promise<number> {
    expect((await t.admin('POST', '/v1/layers', { key: `${key}-layer`, name: key })).status).toBe(201);
    const created = await t.admin('POST', '/v1/experiments', {
      key, name: key, layer: `${key}-layer`, traffic: 100, primaryMetric,
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

  /**
   * Exposure-day cohorts (`first_exposure_day` declared, primary metric with a 24 h window): 80 units
   * first exposed on each of 5 days, the treatment's extra events by cohort; every unit also sends
   * an event 30 h after exposure (outside the window, in a later cohort's calendar day).
   */
  async function cohortExperiment(key: string, bonus: number[]): Promise<NoveltyDto> {
    const startMs = await start(key, ['country', 'first_exposure_day'], 'fx_win');
    const units = Array.from({ length: 5 * 80 }, (_, i) => `${key}-u${i}`);
    const variants = await assignedVariants(t, sdkKey, key, units);
    const events: SentEvent[] = [];
    units.forEach((u, i) => {
      const day = Math.floor(i / 80);
      const variant = variants.get(u);
      if (!variant) return;
      const at = startMs + day * DAY + 60_000;
      events.push({ type: 'exposure', unitId: u, experiment: key, variant, timestamp: new Date(at).toISOString() });
      const count = (i % 3) + (variant === 'treatment' ? bonus[day] : 0);
      for (let k = 0; k < count; k++) events.push({ type: 'metric', unitId: u, name: 'fx_win', timestamp: new Date(at + (k + 1) * 3_600_000).toISOString() });
      events.push({ type: 'metric', unitId: u, name: 'fx_win', timestamp: new Date(at + 30 * 3_600_000).toISOString() });
    });
    await sendEvents(t, sdkKey, events);
    const body = await results(key);
    expect(body.novelty).toHaveLength(1);
    // The cohort dimension feeds novelty only: heterogeneity tests country alone.
    expect(body.heterogeneity.map((h) => h.dimension)).toEqual(['country']);
    return body.novelty[0];
  }

  it('flags an effect that fades by exposure-day cohort, each cohort over its attribution window', async () => {
    const n = await cohortExperiment('fx-cohort-fade', [4, 3, 2, 1, 0]);
    expect(n).toMatchObject({ method: 'weighted-trend-knapp-hartung', metric: 'fx_win', variant: 'treatment', flagged: true, pattern: 'fading' });
    expect(n.params).toMatchObject({ attributionWindowHours: 24, cohorts: 'exposure-day cohorts (first_exposure_day), each over its full attribution window' });
    expect(n.cohorts.map((c) => c.day - n.cohorts[0].day)).toEqual([0, 1, 2, 3, 4]);
    // Each cohort's effect is its own bonus (the event 30 h later is outside the window, in both arms).
    n.cohorts.forEach((c, d) => expect(Math.abs(c.estimate - [4, 3, 2, 1, 0][d])).toBeLessThan(0.5));
    expect(n.slope).toBeLessThan(0);
  });

  it('leaves a constant effect across exposure-day cohorts unflagged', async () => {
    const n = await cohortExperiment('fx-cohort-flat', [1, 1, 1, 1, 1]);
    expect(n.cohorts).toHaveLength(5);
    expect(n).toMatchObject({ flagged: false, pattern: 'none' });
    expect(n.reason).toBeUndefined();
    n.cohorts.forEach((c) => expect(Math.abs(c.estimate - 1)).toBeLessThan(0.5));
  });
});
