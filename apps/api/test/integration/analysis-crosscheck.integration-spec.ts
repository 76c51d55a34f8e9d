import {
  advanceSequentialState,
  benjaminiHochberg,
  applySequentialState,
  sequentialObservation,
  type SequentialState,
  capThresholds,
  createRng,
  ratioArmMoments,
  ratioMetric,
  resultsTable,
  type ArmStats,
  type CovariateArmStats,
  type Estimate,
  type MetricInput,
} from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type MetricSpec, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { STATS_OPTIONS } from '../../src/modules/result/results-builder';

/**
 * The results endpoint must equal libs/stats run in memory on the raw events we sent: per-unit
 * values computed here in TypeScript (population, attribution window, winsorization, CUPED
 * covariate, ratio sums), then resultsTable — compared at 1e-9 relative.
 */

const KEY = 'xcheck';
const HOUR = 3_600_000;
const METRICS: MetricSpec[] = [
  { key: 'x_conv', type: 'conversion', eventName: 'purchase' },
  { key: 'x_count', type: 'count', eventName: 'pageview' },
  { key: 'x_rev', type: 'mean', eventName: 'purchase', winsorizePercentile: 0.95 },
  { key: 'x_ratio', type: 'ratio', eventName: 'purchase', denominatorEventName: 'session', cupedLookbackDays: 0 },
  { key: 'x_window', type: 'count', eventName: 'pageview', attributionWindowHours: 1, cupedLookbackDays: 0 },
];

let t: TestApp;
let sdkKey: string;
const sent: SentEvent[] = [];
const forcedUnits = ['x-forced-1', 'x-forced-2'];

function close(actual: number | null | undefined, expected: number | null | undefined, what: string): void {
  if (expected === null || expected === undefined) {
    expect(actual ?? null, what).toBeNull();
    return;
  }
  expect(typeof actual, what).toBe('number');
  const a = actual as number;
  const tol = 1e-9 * Math.max(Math.abs(a), Math.abs(expected)) + 1e-12;
  expect(Math.abs(a - expected), `${what}: ${a} vs ${expected}`).toBeLessThanOrEqual(tol);
}

function closeEstimate(actual: any, e: Estimate, what: string): void {
  close(actual.estimate, e.estimate, `${what}.estimate`);
  close(actual.pValue, e.pValue, `${what}.pValue`);
  close(actual.ci?.[0], e.ci?.[0], `${what}.ci[0]`);
  close(actual.ci?.[1], e.ci?.[1], `${what}.ci[1]`);
  expect(actual.significant, `${what}.significant`).toBe(e.significant);
}

/**
 * What the persisted monotone state makes of today's stateless sequential estimate: folded into
 * the sequence the previous read showed (same configuration key), else a new sequence.
 */
function monotone(e: Estimate, previous: any, current: any): Estimate {
  const key: string = current.sequence.key;
  const prev: SequentialState | null = previous?.sequence?.key === key ? { ...previous.sequence, pValue: previous.pValue, ci: previous.ci } : null;
  const out = applySequentialState(e, advanceSequentialState(prev, sequentialObservation(e, key, 0.05)), 0.05);
  // Significance is the correction of the folded p across the table (checked against BH below for
  // the relative family): adjusted p ≥ the folded p, significant when adjusted p ≤ alpha.
  expect(current.adjustedPValue).toBeGreaterThanOrEqual(out.pValue - 1e-15);
  out.significant = out.defined && out.insufficient === undefined && current.adjustedPValue <= 0.05;
  return out;
}

interface UnitTruth {
  variant: string;
  firstTs: number;
  country: string;
}

/** Per-unit values of every metric from the raw events we sent, exactly as docs/analysis.md defines them. */
function inMemory(events: SentEvent[]): { units: Map<string, UnitTruth>; values: Map<string, Map<string, { y: number; c: number; x: number }>> } {
  const units = new Map<string, UnitTruth>();
  for (const e of events) {
    if (e.type !== 'exposure' || forcedUnits.includes(e.unitId)) continue;
    const ts = Date.parse(e.timestamp);
    const u = units.get(e.unitId);
    if (!u || ts < u.firstTs) units.set(e.unitId, { variant: e.variant as string, firstTs: ts, country: String(e.attributes?.country ?? '(none)') });
  }
  const byUnit = new Map<string, SentEvent[]>();
  for (const e of events) if (e.type === 'metric') byUnit.set(e.unitId, [...(byUnit.get(e.unitId) ?? []), e]);
  const values = new Map<string, Map<string, { y: number; c: number; x: number }>>();
  for (const m of METRICS) {
    const perUnit = new Map<string, { y: number; c: number; x: number }>();
    const lookback = (m.cupedLookbackDays ?? 14) * 24 * HOUR;
    for (const [unitId, u] of units) {
      let num = 0, cnt = 0, den = 0, pre = 0, preCnt = 0;
      for (const e of byUnit.get(unitId) ?? []) {
        const ts = Date.parse(e.timestamp);
        const inWindow = ts >= u.firstTs && (m.attributionWindowHours === undefined || ts < u.firstTs + m.attributionWindowHours * HOUR);
        if (e.name === m.eventName && inWindow) { num += e.value ?? 0; cnt++; }
        if (m.denominatorEventName && e.name === m.denominatorEventName && inWindow) den += e.value ?? 1;
        if (e.name === m.eventName && lookback > 0 && ts >= u.firstTs - lookback && ts < u.firstTs) { pre += e.value ?? 0; preCnt++; }
      }
      const y = m.type === 'conversion' ? (cnt > 0 ? 1 : 0) : m.type === 'count' ? cnt : num;
      const c = m.type === 'conversion' ? (preCnt > 0 ? 1 : 0) : m.type === 'count' ? preCnt : pre;
      perUnit.set(unitId, { y, c, x: den });
    }
    if (m.winsorizePercentile) {
      const all = [...perUnit.values()];
      const yCap = capThresholds(all.map((v) => v.y), m.winsorizePercentile).upper;
      const cCap = capThresholds(all.map((v) => v.c), m.winsorizePercentile).upper;
      for (const v of all) { v.y = Math.min(v.y, yCap); v.c = Math.min(v.c, cCap); }
    }
    values.set(m.key, perUnit);
  }
  return { units, values };
}

function arms(m: MetricSpec, units: Map<string, UnitTruth>, perUnit: Map<string, { y: number; c: number; x: number }>, filter: (u: UnitTruth) => boolean = () => true): Record<string, ArmStats | CovariateArmStats> {
  const out: Record<string, { n: number; sum: number; sumSq: number; covSum: number; covSumSq: number; crossSum: number; den: number; denSq: number; numDen: number }> = {};
  for (const [unitId, u] of units) {
    if (!filter(u)) continue;
    const v = perUnit.get(unitId) ?? { y: 0, c: 0, x: 0 };
    const a = (out[u.variant] ??= { n: 0, sum: 0, sumSq: 0, covSum: 0, covSumSq: 0, crossSum: 0, den: 0, denSq: 0, numDen: 0 });
    a.n++; a.sum += v.y; a.sumSq += v.y * v.y; a.covSum += v.c; a.covSumSq += v.c * v.c; a.crossSum += v.c * v.y;
    a.den += v.x; a.denSq += v.x * v.x; a.numDen += v.x * v.y;
  }
  const result: Record<string, ArmStats | CovariateArmStats> = {};
  for (const [variant, a] of Object.entries(out)) {
    if (m.type === 'ratio') {
      const r = ratioArmMoments({ n: a.n, sumNum: a.sum, sumNumSq: a.sumSq, sumDen: a.den, sumDenSq: a.denSq, sumNumDen: a.numDen });
      if (!r.ok) throw new Error(r.reason);
      // The documented linearisation: mean R, per-unit variance n·Var(R).
      result[variant] = { n: a.n, sum: a.n * r.ratio, sumSq: (a.n - 1) * r.variance * a.n + a.n * r.ratio * r.ratio };
    } else if ((m.cupedLookbackDays ?? 14) > 0) {
      result[variant] = { n: a.n, sum: a.sum, sumSq: a.sumSq, covSum: a.covSum, covSumSq: a.covSumSq, crossSum: a.crossSum };
    } else {
      result[variant] = { n: a.n, sum: a.sum, sumSq: a.sumSq };
    }
  }
  return result;
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  for (const m of METRICS) await createMetric(t, m);
  await startExperiment(t, { key: KEY, primary: 'x_conv', secondary: ['x_count', 'x_rev', 'x_ratio', 'x_window'], forced: forcedUnits.map((unitId) => ({ unitId, variant: 'treatment' })) });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('results equal libs/stats on the raw events', () => {
  it('matches the in-memory computation at 1e-9, after incremental rollups that took late events', async () => {
    const rng = createRng(6006);
    const unitIds = [...Array.from({ length: 3000 }, (_, i) => `x-unit-${i}`), ...forcedUnits];
    const variants = await assignedVariants(t, sdkKey, KEY, unitIds);
    const now = Date.now();
    const early: SentEvent[] = [];
    const late: SentEvent[] = [];
    const countries = ['US', 'DE', 'FR'];
    for (const unitId of unitIds) {
      const variant = variants.get(unitId) as string;
      const lift = variant === 'treatment' ? 1.15 : 1;
      const exposureAgo = 3 * HOUR + Math.floor(rng.uniform() * HOUR);
      const exposureTs = now - exposureAgo;
      const country = countries[Math.floor(rng.uniform() * 3)];
      early.push({ type: 'exposure', unitId, experiment: KEY, variant, timestamp: isoAgo(exposureAgo, now), attributes: { country } });
      // A later exposure must not move the unit's first exposure.
      if (rng.uniform() < 0.2) early.push({ type: 'exposure', unitId, experiment: KEY, variant, timestamp: isoAgo(exposureAgo - 600_000, now), attributes: { country: 'XX' } });
      const habit = rng.uniform();
      // Pre-exposure behaviour (the CUPED covariate), correlated with behaviour after exposure.
      const prePageviews = Math.floor(habit * 6);
      for (let k = 0; k < prePageviews; k++) early.push({ type: 'metric', unitId, name: 'pageview', timestamp: new Date(exposureTs - (1 + k) * 6 * HOUR).toISOString() });
      if (rng.uniform() < habit * 0.3) early.push({ type: 'metric', unitId, name: 'purchase', value: 20 + 80 * rng.uniform(), timestamp: new Date(exposureTs - 30 * HOUR).toISOString() });
      const pageviews = Math.floor(habit * 8 * lift + rng.uniform() * 3);
      for (let k = 0; k < pageviews; k++) {
        const ts = exposureTs + Math.floor(rng.uniform() * (exposureAgo - 60_000));
        (rng.uniform() < 0.3 ? late : early).push({ type: 'metric', unitId, name: 'pageview', timestamp: new Date(ts).toISOString() });
      }
      const sessions = 1 + Math.floor(rng.uniform() * 4);
      for (let k = 0; k < sessions; k++) early.push({ type: 'metric', unitId, name: 'session', timestamp: new Date(exposureTs + 1000 * (k + 1)).toISOString() });
      if (rng.uniform() < 0.15 * lift + habit * 0.1) {
        const value = Math.exp(3 + rng.normal()) * lift; // heavy tail: winsorization matters
        // Some purchases arrive late (sent in the second phase with an old event time).
        (rng.uniform() < 0.5 ? late : early).push({ type: 'metric', unitId, name: 'purchase', value, timestamp: new Date(exposureTs + 5 * 60_000).toISOString() });
      }
    }
    await sendEvents(t, sdkKey, early);
    sent.push(...early);
    const first = await t.admin('GET', `/v1/experiments/${KEY}/results`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const firstThrough = first.body.dataThrough;
    expect(firstThrough).not.toBeNull();
    await sendEvents(t, sdkKey, late);
    sent.push(...late);
    const frozen = await t.admin('GET', `/v1/experiments/${KEY}/results`);
    expect(frozen.status).toBe(200);
    expect(Date.parse(frozen.body.dataThrough)).toBeGreaterThan(Date.parse(firstThrough));
    // Winsorization caps stay frozen between recomputations: still the ones of the first read.
    const firstCap = first.body.metrics.find((x: any) => x.metric === 'x_rev').winsorization;
    expect(firstCap.computedAt).not.toBeNull();
    expect(frozen.body.metrics.find((x: any) => x.metric === 'x_rev').winsorization).toEqual(firstCap);
    // Recomputed on request, the caps (and statistics) are those of all the data.
    const recompute = await t.admin('POST', '/v1/analysis/caps', { experiments: [KEY] });
    expect(recompute.status, JSON.stringify(recompute.body)).toBe(200);
    expect(recompute.body.changed).toContain(KEY);
    const res = await t.admin('GET', `/v1/experiments/${KEY}/results`);
    expect(res.status).toBe(200);
    const cap = res.body.metrics.find((x: any) => x.metric === 'x_rev').winsorization;
    expect(Date.parse(cap.computedAt)).toBeGreaterThan(Date.parse(firstCap.computedAt));
    expect(cap.units).toBe(3000);

    const { units, values } = inMemory(sent);
    // Population and SRM counts: forced units are left out.
    const counts: Record<string, number> = {};
    for (const u of units.values()) counts[u.variant] = (counts[u.variant] ?? 0) + 1;
    expect(res.body.srm.counts).toEqual(counts);
    expect(res.body.totalUnits).toBe(3000);

    const inputs: MetricInput[] = METRICS.map((m) => {
      const a = arms(m, units, values.get(m.key) as Map<string, { y: number; c: number; x: number }>);
      return { name: m.key, kind: m.type === 'conversion' ? 'proportion' : 'mean', control: a.control, variants: [{ name: 'treatment', stats: a.treatment }] };
    });
    // The results endpoint's settings (results-builder.ts STATS_OPTIONS: log-ratio relative intervals, variance floors).
    const options = { ...STATS_OPTIONS, alpha: 0.05, plannedSampleSize: 5000, correction: 'e-bh' as const };
    const main = resultsTable(inputs, { ...options, cuped: false });
    const cuped = resultsTable(inputs, { ...options, cuped: true });
    for (const m of METRICS) {
      const dto = res.body.metrics.find((x: any) => x.metric === m.key);
      const input = inputs.find((i) => i.name === m.key) as MetricInput;
      const control = dto.variants[0];
      const treatment = dto.variants[1];
      expect(control.isControl).toBe(true);
      close(control.mean, input.control.sum / input.control.n, `${m.key} control mean`);
      close(treatment.units, (input.variants[0].stats as ArmStats).n, `${m.key} treatment units`);
      const c = main.comparisons.find((x) => x.metric === m.key) as (typeof main.comparisons)[number];
      // The read before (same data but the caps) holds the sequence state the sequential numbers continue.
      const before = frozen.body.metrics.find((x: any) => x.metric === m.key).variants[1];
      closeEstimate(treatment.absolute.fixed, c.fixed.absolute, `${m.key} fixed.absolute`);
      closeEstimate(treatment.relative.fixed, c.fixed.relative, `${m.key} fixed.relative`);
      closeEstimate(treatment.absolute.sequential, monotone(c.sequential.absolute, before.absolute.sequential, treatment.absolute.sequential), `${m.key} sequential.absolute`);
      closeEstimate(treatment.relative.sequential, monotone(c.sequential.relative, before.relative.sequential, treatment.relative.sequential), `${m.key} sequential.relative`);
      closeEstimate(treatment.msprt, monotone(c.sequential.msprt, before.msprt, treatment.msprt), `${m.key} msprt`);
      // The correction runs on the folded (running-min) p-values of every metric's relative sequence:
      // e-BH on e = 1/p, i.e. BH on the folded p (issue 15: the decision is a function of the stored state).
      const foldedPs = res.body.metrics.map((x: any) => x.variants[1].relative.sequential).map((e: any) => (e.reason === undefined && e.insufficient === undefined ? e.pValue : 1));
      close(treatment.adjustedPValue, benjaminiHochberg(foldedPs).adjustedPValues[res.body.metrics.findIndex((x: any) => x.metric === m.key)], `${m.key} adjusted p`);
      const cc = cuped.comparisons.find((x) => x.metric === m.key) as (typeof main.comparisons)[number];
      if (cc.cuped.applied) {
        close(treatment.cuped.theta, cc.cuped.theta, `${m.key} theta`);
        closeEstimate(treatment.cuped.relative, monotone(cc.sequential.relative, before.cuped?.relative, treatment.cuped.relative), `${m.key} cuped.relative`);
      } else {
        expect(treatment.cuped).toBeNull();
      }
    }
    // CUPED is on for the metrics with a lookback and actually reduces variance here.
    const count = res.body.metrics.find((x: any) => x.metric === 'x_count').variants[1];
    expect(count.cuped.varianceReduction).toBeGreaterThan(0.1);
    expect(res.body.metrics.find((x: any) => x.metric === 'x_window').variants[1].cuped).toBeNull();

    // Ratio: the fixed relative lift is libs/stats' delta-method ratio test on the raw sums.
    const ratioArms: Record<string, { n: number; sumNum: number; sumNumSq: number; sumDen: number; sumDenSq: number; sumNumDen: number }> = {};
    for (const [unitId, u] of units) {
      const v = values.get('x_ratio')?.get(unitId) as { y: number; x: number };
      const a = (ratioArms[u.variant] ??= { n: 0, sumNum: 0, sumNumSq: 0, sumDen: 0, sumDenSq: 0, sumNumDen: 0 });
      a.n++; a.sumNum += v.y; a.sumNumSq += v.y * v.y; a.sumDen += v.x; a.sumDenSq += v.x * v.x; a.sumNumDen += v.x * v.y;
    }
    // The table builds intervals at the multiplicity-adjusted level (BH), so compare at that alpha.
    const ratio = ratioMetric(ratioArms.control, ratioArms.treatment, { relative: true, alpha: main.correction.ciAlpha['fixed.relative'] });
    const ratioDto = res.body.metrics.find((x: any) => x.metric === 'x_ratio').variants[1];
    close(ratioDto.relative.fixed.estimate, ratio.estimate, 'ratio relative estimate');
    // The interval is the log-ratio one (STATS_OPTIONS; checked against resultsTable above): the
    // delta-method ratio interval's width on the log scale, so never below −100 %.
    const logHalf = (Math.log1p(ratio.ci?.[1] as number) - Math.log1p(ratio.ci?.[0] as number)) / 2;
    expect(ratioDto.relative.fixed.ci[0]).toBeGreaterThan(-1);
    expect(ratioDto.relative.fixed.ci[0]).toBeLessThan(ratio.estimate);
    expect(ratioDto.relative.fixed.ci[1]).toBeGreaterThan(ratio.estimate);
    expect(logHalf).toBeGreaterThan(0);
    close(ratioDto.mean, ratioArms.treatment.sumNum / ratioArms.treatment.sumDen, 'ratio treatment mean');

    // The attribution window leaves out pageviews more than an hour after exposure.
    const windowed = res.body.metrics.find((x: any) => x.metric === 'x_window').variants[0].mean;
    const all = res.body.metrics.find((x: any) => x.metric === 'x_count').variants[0].mean;
    expect(windowed).toBeLessThan(all);
  });

  it('breaks results down by an exposure attribute of the first exposure, matching the in-memory subset', async () => {
    const res = await t.admin('GET', `/v1/experiments/${KEY}/results?segment=country&correction=none`);
    expect(res.status).toBe(200);
    const values = res.body.segments.map((s: any) => s.value).sort();
    expect(values).toEqual(['DE', 'FR', 'US']);
    const { units, values: perMetric } = inMemory(sent);
    for (const seg of res.body.segments) {
      const m = METRICS[0];
      const a = arms(m, units, perMetric.get(m.key) as Map<string, { y: number; c: number; x: number }>, (u) => u.country === seg.value);
      const dto = seg.metrics.find((x: any) => x.metric === m.key);
      expect(dto.variants[0].units).toBe(a.control.n);
      close(dto.variants[1].mean, a.treatment.sum / a.treatment.n, `segment ${seg.value} treatment mean`);
    }
    const dow = await t.admin('GET', `/v1/experiments/${KEY}/results?segment=day_of_week`);
    expect(dow.status).toBe(200);
    const total = dow.body.segments.reduce((s: number, seg: any) => s + seg.metrics[0].variants.reduce((a: number, v: any) => a + v.units, 0), 0);
    expect(total).toBe(3000);
    expect(dow.body.segments[0].value).toMatch(/^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$/);
  });

  it('ends the time series with the cumulative totals and the same sequential lift as the results', async () => {
    const ts = await t.admin('GET', `/v1/experiments/${KEY}/results/timeseries`);
    expect(ts.status, JSON.stringify(ts.body)).toBe(200);
    const last = ts.body.points[ts.body.points.length - 1];
    // The default configuration: the time series continues (and ends on) its persisted sequences.
    const res = await t.admin('GET', `/v1/experiments/${KEY}/results`);
    expect(last.unitsByVariant).toEqual(res.body.srm.counts);
    for (const key of ['x_conv', 'x_count', 'x_ratio']) {
      const seq = res.body.metrics.find((x: any) => x.metric === key).variants[1].relative.sequential;
      close(last.lift[key].treatment.estimate, seq.estimate, `${key} timeseries estimate`);
      close(last.lift[key].treatment.ci[0], seq.ci[0], `${key} timeseries ci`);
      close(last.lift[key].treatment.ci[1], seq.ci[1], `${key} timeseries ci upper`);
    }
  });

  it('exports the SQL that reproduces the aggregates from raw events', async () => {
    const res = await t.request('GET', `/v1/experiments/${KEY}/export/sql`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const statements = res.text.split(';').map((s) => s.trim()).filter((s) => s.includes('SELECT'));
    expect(statements).toHaveLength(METRICS.length);
    const rows = await t.dataSource.query(statements[2]); // x_rev: winsorized mean with covariate
    const results = await t.admin('GET', `/v1/experiments/${KEY}/results`);
    const rev = results.body.metrics.find((x: any) => x.metric === 'x_rev');
    for (const v of rev.variants) {
      const row = rows.find((r: any) => r.variant_key === v.variant);
      expect(Number(row.n)).toBe(v.units);
      close(row.sum, v.sum, `sql export sum ${v.variant}`);
    }
  });
});
