import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, backdatedStart, createMetric, isoAgo, sendEvents, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Per-experiment segment dimensions: declared with the experiment (validated), kept by the
 * engine, served as keyed reads; an undeclared one is a 400; changing them on a running
 * experiment rebuilds its state once and serves the new dimension.
 */

describe('segment dimensions declared per experiment', () => {
  let t: TestApp;
  let sdkKey: string;
  const KEY = 'segdims';
  const units = Array.from({ length: 12 }, (_, i) => `segdims-u${String(i).padStart(2, '0')}`);
  const device = (i: number) => (i % 3 === 0 ? 'ios' : 'android');
  const plan = (i: number) => (i % 2 === 0 ? 'free' : 'pro');

  beforeAll(async () => {
    t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
    sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
    await createMetric(t, { key: 'segdims_buy', type: 'count', eventName: 'segdims_buy', cupedLookbackDays: 0 });
    expect((await t.admin('POST', '/v1/layers', { key: 'segdims-layer', name: 'segdims' })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('rejects a bad declaration with a 400 naming the field', async () => {
    const base = { name: 'bad', layer: 'segdims-layer', variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }] };
    for (const segmentDimensions of [['day'], ['a', 'b', 'c', 'd', 'e', 'f'], ['device', 'device'], ['has space']]) {
      const res = await t.admin('POST', '/v1/experiments', { key: `segdims-bad-${segmentDimensions.length}-${segmentDimensions[0].length}`, ...base, segmentDimensions });
      expect(res.status, JSON.stringify(segmentDimensions)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(JSON.stringify(res.body.error.details)).toContain('segmentDimensions');
    }
    const defaults = await t.admin('POST', '/v1/experiments', { key: 'segdims-default', ...base });
    expect(defaults.status).toBe(201);
    expect(defaults.body.segmentDimensions).toEqual(['country', 'platform', 'day_of_week']);
  });

  it('serves a declared dimension from the store, refuses an undeclared one, and rebuilds once when they change', async () => {
    const created = await t.admin('POST', '/v1/experiments', {
      key: KEY, name: KEY, layer: 'segdims-layer', traffic: 100, primaryMetric: 'segdims_buy',
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
      segmentDimensions: ['device'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.segmentDimensions).toEqual(['device']);
    expect((await t.admin('POST', `/v1/experiments/${KEY}/start`, { startedAt: backdatedStart() })).status).toBe(200);
    const variants = await assignedVariants(t, sdkKey, KEY, units);
    const events: SentEvent[] = [];
    units.forEach((u, i) => {
      events.push({ type: 'exposure', unitId: u, experiment: KEY, variant: variants.get(u), timestamp: isoAgo(120_000), attributes: { device: device(i), plan: plan(i) } });
      for (let k = 0; k < i % 4; k++) events.push({ type: 'metric', unitId: u, name: 'segdims_buy', timestamp: isoAgo(60_000 - k) });
    });
    await sendEvents(t, sdkKey, events);
    const engine = t.app.get(AnalysisEngineService);
    await engine.tick();

    // Expected per segment value and variant: units and Σ events, from what was sent.
    const expected = (attr: (i: number) => string) => {
      const out = new Map<string, { n: number; sum: number }>();
      units.forEach((u, i) => {
        const k = `${attr(i)}|${variants.get(u)}`;
        const e = out.get(k) ?? { n: 0, sum: 0 };
        out.set(k, { n: e.n + 1, sum: e.sum + (i % 4) });
      });
      return out;
    };
    const check = async (segment: string, attr: (i: number) => string) => {
      const res = await t.admin('GET', `/v1/experiments/${KEY}/results?segment=${segment}&correction=none`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const got = new Map<string, { n: number; sum: number }>();
      for (const seg of res.body.segments as { value: string; metrics: { variants: { variant: string; units: number; mean: number }[] }[] }[]) {
        for (const v of seg.metrics[0].variants) got.set(`${seg.value}|${v.variant}`, { n: v.units, sum: Math.round(v.mean * v.units) });
      }
      expect(got).toEqual(expected(attr));
    };
    await check('device', device);
    const stored: { dim: string }[] = await t.dataSource.query('SELECT DISTINCT dim FROM analysis_stats WHERE experiment_key = $1 ORDER BY dim', [KEY]);
    expect(stored.map((r) => r.dim)).toEqual(['', 'day', 'device']);

    const undeclared = await t.admin('GET', `/v1/experiments/${KEY}/results?segment=plan`);
    expect(undeclared.status).toBe(400);
    expect(undeclared.body.error.code).toBe('segment_not_declared');
    expect(undeclared.body.error.details[0].message).toContain('device');

    // Declared while running: the next tick rebuilds this experiment (its definition hash moved) and keeps "plan".
    const changed = await t.admin('PATCH', `/v1/experiments/${KEY}`, { segmentDimensions: ['device', 'plan'] });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const report = await engine.tick();
    expect(report.rebuilt).toEqual([KEY]);
    await check('plan', plan);
    await check('device', device);
    expect((await engine.tick()).rebuilt).toEqual([]);
  });
});
