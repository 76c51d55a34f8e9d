import type { ExperimentResultsDto, PostStratifiedDto } from '@strata/contracts';
import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, backdatedStart, createMetric, sendEvents, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * `?stratify=<declared dimension>`: post-stratification (Miratrix, Sekhon & Yu 2013) from the
 * engine's stored per-region slices, on data sent through the HTTP API. Regions with very
 * different baselines make the plain interval wide; the post-stratified one removes that part.
 */

const DAY = 86_400_000;
const REGIONS: Array<[string, number]> = [['BR', 5], ['DE', 20], ['US', 50], ['JP', 100]];
const LIFT = 1;

describe('post-stratification in the results', () => {
  let t: TestApp;
  let sdkKey: string;

  beforeAll(async () => {
    t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
    sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
    await createMetric(t, { key: 'ps_spend', type: 'mean', eventName: 'ps_spend', cupedLookbackDays: 0 });
    await createMetric(t, { key: 'ps_spend_cuped', type: 'mean', eventName: 'ps_spend_c', cupedLookbackDays: 3 });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** 800 units over 4 regions (baselines 5 … 100, sd 2), one exposure each, treatment +LIFT. */
  async function seed(key: string, metric: string, eventName: string, withPrePeriod: boolean): Promise<void> {
    expect((await t.admin('POST', '/v1/layers', { key: `${key}-layer`, name: key })).status).toBe(201);
    const created = await t.admin('POST', '/v1/experiments', {
      key, name: key, layer: `${key}-layer`, traffic: 100, primaryMetric: metric,
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
      segmentDimensions: ['region', 'platform'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const startMs = new Date(backdatedStart()).getTime();
    expect((await t.admin('POST', `/v1/experiments/${key}/start`, { startedAt: new Date(startMs).toISOString() })).status).toBe(200);
    const units = Array.from({ length: 800 }, (_, i) => `${key}-u${i}`);
    const variants = await assignedVariants(t, sdkKey, key, units);
    const rng = createRng(15100);
    const events: SentEvent[] = [];
    units.forEach((u, i) => {
      const variant = variants.get(u);
      if (!variant) return;
      const [region, base] = REGIONS[i % REGIONS.length];
      const at = startMs + 4 * DAY + i * 1000;
      // A unit's own level (persists from the pre-period into the experiment): what CUPED removes.
      const level = base + 2 * rng.normal();
      if (withPrePeriod) events.push({ type: 'metric', unitId: u, name: eventName, value: level + 0.5 * rng.normal(), timestamp: new Date(at - DAY).toISOString() });
      events.push({ type: 'exposure', unitId: u, experiment: key, variant, timestamp: new Date(at).toISOString(), attributes: { region } });
      const y = level + (variant === 'treatment' ? LIFT : 0) + (withPrePeriod ? 0.5 * rng.normal() : 0);
      events.push({ type: 'metric', unitId: u, name: eventName, value: y, timestamp: new Date(at + 500).toISOString() });
    });
    await sendEvents(t, sdkKey, events);
    await t.app.get(AnalysisEngineService).tick();
  }

  async function results(key: string, query: string): Promise<ExperimentResultsDto> {
    const res = await t.admin('GET', `/v1/experiments/${key}/results${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as ExperimentResultsDto;
  }

  const width = (ci: [number, number] | null): number => {
    if (!ci) throw new Error('undefined interval');
    return ci[1] - ci[0];
  };

  it('narrows the interval on a strong regional baseline difference and stays close to the seeded effect', async () => {
    const key = 'ps-regions';
    await seed(key, 'ps_spend', 'ps_spend', false);
    const body = await results(key, '?stratify=region');
    const plain = body.metrics[0].variants[1];
    expect(body.postStratified).toHaveLength(1);
    const ps = body.postStratified?.[0] as PostStratifiedDto;
    expect(ps).toMatchObject({ method: 'post-stratification', metric: 'ps_spend', variant: 'treatment', dimension: 'region', cuped: { applied: false } });
    expect(ps.reason).toBeUndefined();
    expect(ps.params).toMatchObject({ dimension: 'region', strata: 4, weights: 'observed stratum shares (control + treatment units)' });
    expect(ps.strata.map((s) => s.value).sort()).toEqual(['BR', 'DE', 'JP', 'US']);
    expect(ps.strata.reduce((a, s) => a + s.units, 0)).toBe(body.totalUnits);
    const fixed = ps.absolute.fixed;
    const se = width(fixed.ci) / (2 * 1.959963984540054);
    // The regions' spread (sd ≈ 37) dominates the plain interval; within a region sd is 2.
    const plainFixed = plain.absolute?.fixed.ci ?? null;
    console.log(`fixed 95% CI width: plain ${width(plainFixed).toFixed(3)}, post-stratified ${width(fixed.ci).toFixed(3)}; estimate ${fixed.estimate.toFixed(3)} (seeded ${LIFT})`);
    expect(width(fixed.ci)).toBeLessThan(0.2 * width(plainFixed));
    expect(Math.abs(fixed.estimate - LIFT)).toBeLessThan(4 * se);
    expect(fixed.significant).toBe(true);
    // The sequential interval too, folded into its own sequence (key strata=region).
    const seq = ps.absolute.sequential;
    expect(width(seq.ci)).toBeLessThan(0.2 * width(plain.absolute?.sequential.ci ?? null));
    expect(seq.ci?.[0]).toBeLessThan(LIFT);
    expect(seq.ci?.[1]).toBeGreaterThan(LIFT);
    expect(seq.sequence?.key).toContain('strata=region');
    expect(seq.params).toMatchObject({ estimator: 'post-stratification', dimension: 'region', scale: 'absolute' });
    expect(ps.relative.sequential.reason).toBeUndefined();
    expect(ps.relative.fixed.method).toBe('post-stratified-relative-delta');
    // Without ?stratify there is nothing post-stratified; an undeclared dimension is a 400 on `stratify`.
    expect((await results(key, '')).postStratified).toBeUndefined();
    const bad = await t.admin('GET', `/v1/experiments/${key}/results?stratify=country`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'segment_not_declared', details: [expect.objectContaining({ path: 'stratify' })] });
  });

  it('combines with CUPED (adjusted within the strata): narrower than post-stratification of the raw values', async () => {
    const key = 'ps-cuped';
    await seed(key, 'ps_spend_cuped', 'ps_spend_c', true);
    const ps = (await results(key, '?stratify=region')).postStratified?.[0] as PostStratifiedDto;
    expect(ps.cuped.applied).toBe(true);
    expect(ps.cuped.theta).toBeGreaterThan(0.5);
    expect(ps.params.cuped).toBe('within strata (pooled within-cell slope)');
    const fixed = ps.absolute.fixed;
    const se = width(fixed.ci) / (2 * 1.959963984540054);
    expect(Math.abs(fixed.estimate - LIFT)).toBeLessThan(4 * se);
    console.log(`post-stratified CUPED: θ ${ps.cuped.theta.toFixed(3)}, estimate ${fixed.estimate.toFixed(3)} (seeded ${LIFT}), SE ${se.toFixed(4)}`);
    // Without CUPED the within-region sd of y is √(2² + 0.5²) ≈ 2.06; CUPED leaves ≈ 0.7 of it.
    expect(se).toBeLessThan(0.6 * 2.06 * Math.sqrt(1 / 400 + 1 / 400));
  });
});
