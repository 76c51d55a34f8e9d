import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { InteractionService } from '../../src/modules/interaction/interaction.service';
import { backdatedStart, createMetric, isoAgo, sendEvents, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Interaction checks across layers (issue 17), through the HTTP API on real PostgreSQL:
 * - first 200 pairs with no interaction (10 experiments of 10 % in one layer × 20 of 5 % in
 *   another, 30,000 units: each unit in exactly one pair, ~150 shared units per pair, a
 *   conversion at 50 %) flag none at q = 5 %: with every null true, BH's FDR is P(any flag) ≤ q,
 *   and this deterministic run is one draw of that event (the same statistics and correction code
 *   is repeated 1,000 times in libs/stats/src/interaction.spec.ts: any flag in 4–7 % of them);
 * - then a seeded interaction between two experiments in two more layers (treatment × treatment
 *   adds 1.5 to spend) is flagged on both experiments' results, in both directions.
 * Salts are fixed, so assignment, and with it the test, is deterministic.
 */

let t: TestApp;
let sdkKey: string;
const NULL_UNITS = 30_000;
const SEEDED_UNITS = 4000;

async function layer(key: string): Promise<void> {
  const res = await t.admin('POST', '/v1/layers', { key, name: key, salt: `${key}-salt` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function experiment(key: string, layerKey: string, traffic: number, primary: string): Promise<void> {
  const created = await t.admin('POST', '/v1/experiments', {
    key,
    name: key,
    layer: layerKey,
    salt: `${key}-salt`,
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
    traffic,
    primaryMetric: primary,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const started = await t.admin('POST', `/v1/experiments/${key}/start`, { startedAt: backdatedStart() });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
}

/** Every assignment of each unit among `experiments` (POST /v1/assign/batch), once the snapshot has them all. */
async function assignments(unitIds: string[], experiments: string[], perUnit: number): Promise<Map<string, { experiment: string; variant: string }[]>> {
  const out = new Map<string, { experiment: string; variant: string }[]>();
  for (let i = 0; i < unitIds.length; i += 1000) {
    const units = unitIds.slice(i, i + 1000).map((unitId) => ({ unitId }));
    for (let attempt = 0; ; attempt++) {
      const res = await t.request('POST', '/v1/assign/batch', { key: sdkKey, body: { units, experiments } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const results = res.body.results as { unitId: string; assignments: { experiment: string; variant: string }[] }[];
      if (results.every((r) => r.assignments.length === perUnit)) {
        for (const r of results) out.set(r.unitId, r.assignments);
        break;
      }
      if (attempt > 100) throw new Error('assignment never saw every experiment');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return out;
}

interface Interaction {
  subject: string;
  other: string;
  metric: string;
  flagged: boolean;
  pValue: number | null;
  adjustedPValue: number | null;
  estimate: number | null;
  method: string | null;
  units: number;
}

let nullRefresh: { body: Record<string, unknown>; status: number };
let nullTests: Interaction[];
let refresh: { body: Record<string, unknown>; status: number };

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0', STRATA_INTERACTION_MIN_UNITS: '100', STRATA_INTERACTION_FDR: '0.05' });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'ix_spend', type: 'mean', eventName: 'ix_spend', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'ix_buy', type: 'conversion', eventName: 'ix_buy', cupedLookbackDays: 0 });
  const rng = createRng(1717);
  const now = Date.now();

  // First, only the 200 null pairs: 10 experiments × 10 % in one layer, 20 × 5 % in another.
  await layer('ix-l1');
  await layer('ix-l2');
  const first = Array.from({ length: 10 }, (_, i) => `n1-${i}`);
  const second = Array.from({ length: 20 }, (_, i) => `n2-${i}`);
  for (const k of first) await experiment(k, 'ix-l1', 10, 'ix_buy');
  for (const k of second) await experiment(k, 'ix-l2', 5, 'ix_buy');
  const nullUnits = Array.from({ length: NULL_UNITS }, (_, i) => `n-${i}`);
  const nullArms = await assignments(nullUnits, [...first, ...second], 2);
  const nullEvents: SentEvent[] = [];
  for (const unitId of nullUnits) {
    for (const a of nullArms.get(unitId) ?? []) nullEvents.push({ type: 'exposure', unitId, experiment: a.experiment, variant: a.variant, timestamp: isoAgo(600_000, now) });
    if (rng.uniform() < 0.5) nullEvents.push({ type: 'metric', unitId, name: 'ix_buy', timestamp: isoAgo(300_000, now) });
  }
  await sendEvents(t, sdkKey, nullEvents);
  // One unbounded tick builds every experiment (a read's catch-up folds in at most 200,000 events).
  await t.app.get(AnalysisEngineService).tick();
  nullRefresh = await t.admin('POST', '/v1/analysis/interactions/refresh', {});
  const page = (await t.admin('GET', '/v1/analysis/interactions?limit=1000')).body as { items: Interaction[]; total: number; limit: number; offset: number };
  expect(page.total).toBe(page.items.length);
  nullTests = page.items;

  // Then the seeded pair: one experiment per layer, every unit in both.
  await layer('ix-la');
  await layer('ix-lb');
  await experiment('ix-a', 'ix-la', 100, 'ix_spend');
  await experiment('ix-b', 'ix-lb', 100, 'ix_spend');
  const seeded = Array.from({ length: SEEDED_UNITS }, (_, i) => `s-${i}`);
  const seededArms = await assignments(seeded, ['ix-a', 'ix-b'], 2);
  const events: SentEvent[] = [];
  for (const unitId of seeded) {
    const arms = seededArms.get(unitId) ?? [];
    for (const a of arms) events.push({ type: 'exposure', unitId, experiment: a.experiment, variant: a.variant, timestamp: isoAgo(600_000, now) });
    const both = arms.every((a) => a.variant === 'treatment');
    const value = Math.round((10 + 2 * rng.normal() + (both ? 1.5 : 0)) * 1000) / 1000;
    events.push({ type: 'metric', unitId, name: 'ix_spend', value, timestamp: isoAgo(300_000, now) });
  }
  await sendEvents(t, sdkKey, events);
  await t.app.get(AnalysisEngineService).tick();
  refresh = await t.admin('POST', '/v1/analysis/interactions/refresh', {});
}, 300_000);

afterAll(async () => {
  await t?.close();
});

describe('interaction checks across layers', () => {
  it('tests every pair of experiments in different layers that shares enough units, twice (once per experiment metric)', () => {
    expect(nullRefresh.status, JSON.stringify(nullRefresh.body)).toBe(200);
    // 30 experiments in 2 layers: 10 × 20 pairs across them, none within a layer.
    expect(nullRefresh.body).toMatchObject({ worked: true, experiments: 30, candidatePairs: 200, pairs: 200, tests: 400, sampleFraction: 1, correction: 'bh', fdr: 0.05, minUnits: 100 });
    expect(refresh.status, JSON.stringify(refresh.body)).toBe(200);
    // Then 32: the seeded pair shares units; its experiments share none with the 30 others.
    expect(refresh.body).toMatchObject({ worked: true, experiments: 32, candidatePairs: (32 * 31) / 2 - 45 - 190, pairs: 201, tests: 402 });
  });

  it('flags none of 200 null pairs at q = 5 % (all nulls: BH bounds P(any flag) by q), and their p-values look uniform', () => {
    expect(nullTests).toHaveLength(400);
    expect(nullTests.filter((x) => x.flagged)).toEqual([]);
    const ps = nullTests.map((x) => x.pValue as number);
    expect(ps.every((p) => p !== null && p >= 0 && p <= 1)).toBe(true);
    // Under the null p ~ U(0, 1): the pairs' units are disjoint, so 200 independent values (each twice).
    expect(ps.filter((p) => p < 0.05).length / ps.length).toBeLessThan(0.1);
    const mean = ps.reduce((a, b) => a + b, 0) / ps.length;
    expect(mean).toBeGreaterThan(0.4);
    expect(mean).toBeLessThan(0.6);
    for (const x of nullTests) expect(x.units).toBeGreaterThanOrEqual(100);
  });

  it('flags the seeded interaction on both experiments results, in both directions, and not on the others', async () => {
    for (const [key, other] of [
      ['ix-a', 'ix-b'],
      ['ix-b', 'ix-a'],
    ]) {
      const res = await t.admin('GET', `/v1/experiments/${key}/results`);
      expect(res.status).toBe(200);
      const list = res.body.interactions as Interaction[];
      expect(list).toHaveLength(2);
      for (const x of list) {
        expect(new Set([x.subject, x.other])).toEqual(new Set([key, other]));
        expect(x).toMatchObject({ flagged: true, metric: 'ix_spend', method: 'interaction-z', units: SEEDED_UNITS });
        // Difference of differences ≈ 1.5 (sd 2, ~1,000 units per cell: se ≈ 0.13).
        expect(x.estimate).toBeGreaterThan(1.1);
        expect(x.estimate).toBeLessThan(1.9);
        expect(x.adjustedPValue).toBeLessThan(1e-6);
      }
    }
    const r = await t.admin('GET', '/v1/experiments/n1-0/results');
    expect(r.body.interactions).toEqual([]);
  });

  it('writes nothing on a scheduled refresh when no experiment changed, and rejects bad input with 4xx', async () => {
    const before = await t.dataSource.query(`SELECT xmin::text AS x FROM analysis_interactions ORDER BY subject, other LIMIT 1`);
    const again = await t.app.get(InteractionService).refresh(false);
    expect(again.worked).toBe(false);
    const after = await t.dataSource.query(`SELECT xmin::text AS x FROM analysis_interactions ORDER BY subject, other LIMIT 1`);
    expect(after).toEqual(before);
    expect((await t.admin('POST', '/v1/analysis/interactions/refresh', { all: true })).status).toBe(400);
    expect((await t.admin('GET', '/v1/analysis/interactions?limit=100000')).status).toBe(400);
    const bad = await t.admin('GET', '/v1/analysis/interactions?experiment=' + 'x'.repeat(500));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBeDefined();
  });

  it('lists the stored tests a page at a time, with the total, like every other list', async () => {
    const all = (await t.admin('GET', '/v1/analysis/interactions?limit=1000')).body;
    expect(all.total).toBeGreaterThan(3);
    expect(all.items).toHaveLength(Math.min(all.total, 1000));
    const page = (await t.admin('GET', '/v1/analysis/interactions?limit=2&offset=1')).body;
    expect(page).toMatchObject({ total: all.total, limit: 2, offset: 1 });
    expect(page.items).toEqual(all.items.slice(1, 3));
    const flagged = (await t.admin('GET', '/v1/analysis/interactions?flagged=true')).body;
    expect(flagged.total).toBe(all.items.filter((i: Interaction) => i.flagged).length);
    expect((await t.admin('GET', '/v1/analysis/interactions?offset=-1')).status).toBe(400);
  });
});
