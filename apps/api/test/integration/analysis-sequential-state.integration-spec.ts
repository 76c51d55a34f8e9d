import { createRng, resultsTable } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SEQUENCES_PER_EXPERIMENT } from '../../src/modules/result/sequential-fold';
import { EMPTY_ARM, plannedN, STATS_OPTIONS } from '../../src/modules/result/results-builder';
import { buildResults } from '../../src/modules/result/results-decision';
import { foldInMemory } from '../../src/modules/result/sequential-fold';
import { DEFAULT_RESULTS_QUERY } from '../../src/modules/result/sequential-state.service';
import { loadAnalysisDefinition } from '../../src/modules/result/analysis-definition';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { GuardrailService } from '../../src/modules/guardrail/guardrail.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Persisted monotone sequential state through the HTTP API on real PostgreSQL (issue 15): reads
 * with data added between them, where today's stateless always-valid p rises, show a
 * non-increasing p and nested intervals; another alpha or correction is another, labelled sequence.
 */

let t: TestApp;
let sdkKey: string;
const KEY = 'seq-state';
let next = 0;

/** Exposes `n` new units, converting with probability `rate(variant)`. */
async function seed(n: number, seedValue: number, rate: (variant: string) => number, key = KEY, metricEvent = 'seq_signup'): Promise<void> {
  const rng = createRng(seedValue);
  const unitIds = Array.from({ length: n }, () => `${key}-u${next++}`);
  const variants = await assignedVariants(t, sdkKey, key, unitIds);
  const now = Date.now();
  const events: SentEvent[] = [];
  for (const unitId of unitIds) {
    const variant = variants.get(unitId) as string;
    events.push({ type: 'exposure', unitId, experiment: key, variant, timestamp: isoAgo(120_000, now) });
    if (rng.uniform() < rate(variant)) events.push({ type: 'metric', unitId, name: metricEvent, timestamp: isoAgo(60_000, now) });
  }
  await sendEvents(t, sdkKey, events);
}

/** What the stateless code (before the wiring) shows for the same sums: the builder's settings. */
function stateless(body: any, alpha = 0.05) {
  const [c, tr] = body.metrics[0].variants;
  const table = resultsTable(
    [{ name: 'seq_signup', kind: 'proportion', control: { n: c.units, sum: c.sum, sumSq: c.sum }, variants: [{ name: 'treatment', stats: { n: tr.units, sum: tr.sum, sumSq: tr.sum } }] }],
    { ...STATS_OPTIONS, alpha, plannedSampleSize: 5000, correction: 'benjamini-hochberg' },
  );
  return table.comparisons[0].sequential;
}

async function read(query = ''): Promise<any> {
  const res = await t.admin('GET', `/v1/experiments/${KEY}/results${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  await t.app.get(AnalysisEngineService).settled();
  return res.body;
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'seq_signup', type: 'conversion', eventName: 'seq_signup', cupedLookbackDays: 0 });
  await startExperiment(t, { key: KEY, primary: 'seq_signup' });
  await createMetric(t, { key: 'seq_errors', type: 'conversion', eventName: 'seq_errors', cupedLookbackDays: 0, direction: 'decrease' });
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('persisted monotone sequential state', () => {
  it('keeps the always-valid p non-increasing and the intervals nested across reads while the stateless p rises', async () => {
    // A strong early effect (13% vs 10%), then much more data with none: the stateless p rises.
    await seed(6000, 1, (v) => (v === 'treatment' ? 0.13 : 0.1));
    const first = await read();
    const firstTr = first.metrics[0].variants[1];
    const fresh1 = stateless(first);
    expect(firstTr.relative.sequential.pValue).toBeLessThanOrEqual(fresh1.relative.pValue + 1e-12);
    expect(firstTr.relative.sequential.pValue).toBeLessThan(0.05);
    expect(firstTr.relative.sequential.sequence).toMatchObject({ sequence: 1, restartReason: null, emptyIntersection: false });

    const seen: any[] = [first];
    for (let round = 0; round < 3; round++) {
      await seed(6000, 10 + round, () => 0.1);
      seen.push(await read());
    }
    const last = seen[seen.length - 1];
    const fresh = stateless(last);
    // Precondition: the code before this wiring would show a higher p now than at the first read.
    expect(fresh.relative.pValue).toBeGreaterThan(fresh1.relative.pValue * 2);
    expect(fresh.msprt.pValue).toBeGreaterThan(stateless(first).msprt.pValue);
    for (let i = 1; i < seen.length; i++) {
      const prev = seen[i - 1].metrics[0].variants[1];
      const cur = seen[i].metrics[0].variants[1];
      expect(seen[i].totalUnits).toBeGreaterThan(seen[i - 1].totalUnits);
      for (const pick of [(x: any) => x.relative.sequential, (x: any) => x.absolute.sequential, (x: any) => x.msprt]) {
        expect(pick(cur).pValue).toBeLessThanOrEqual(pick(prev).pValue);
        expect(pick(cur).sequence.sequence).toBe(1);
        expect(pick(cur).sequence.reads).toBeGreaterThan(pick(prev).sequence.reads);
      }
      for (const pick of [(x: any) => x.relative.sequential, (x: any) => x.absolute.sequential]) {
        expect(pick(cur).ci[0]).toBeGreaterThanOrEqual(pick(prev).ci[0]);
        expect(pick(cur).ci[1]).toBeLessThanOrEqual(pick(prev).ci[1]);
      }
    }
    const tr = last.metrics[0].variants[1];
    // Still significant: once significant, always (the running p is the first read's or lower).
    expect(tr.relative.sequential.pValue).toBeLessThanOrEqual(firstTr.relative.sequential.pValue);
    expect(tr.relative.sequential.significant).toBe(true);
    // The interval is inside today's own interval (an intersection), and today's point estimate.
    expect(tr.relative.sequential.ci[0]).toBeGreaterThanOrEqual(fresh.relative.ci?.[0] as number);
    expect(tr.relative.sequential.ci[1]).toBeLessThanOrEqual(fresh.relative.ci?.[1] as number);
    expect(tr.relative.sequential.estimate).toBeCloseTo(fresh.relative.estimate, 10);
    // Stored, one row per (metric, variant, configuration) and number.
    const rows = await t.dataSource.query("SELECT config_hash, state FROM analysis_sequential_state WHERE experiment_key = $1 AND metric_key <> ''", [KEY]);
    expect(rows.map((r: any) => r.config_hash.split('#')[0]).sort()).toEqual(['absolute', 'msprt', 'relative']);
    expect(rows.find((r: any) => r.config_hash.startsWith('relative#')).state.pValue).toBe(tr.relative.sequential.pValue);
  });

  it('keeps the decision from the persisted state: once "Ready to ship", the page and the list say so at every later read', async () => {
    const page = await read();
    const tr = page.metrics[0].variants[1];
    // Precondition: today's stateless relative test alone is no longer significant (it flipped).
    expect(stateless(page).relative.pValue).toBeGreaterThan(0.05);
    expect(tr.relative.sequential.significant).toBe(true);
    expect(tr.relative.sequential.adjustedPValue).toBeLessThanOrEqual(0.05);
    expect(page.decision.hint).toBe('ship');
    expect(page.readiness).toMatchObject({ ready: true, minDurationDays: 7 });
    // The list row reads the same stored state (read-only) and agrees with the page, number for number.
    const list = await t.admin('GET', `/v1/experiments/summaries?keys=${KEY}`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const row = list.body[0];
    expect(row.decision).toBe('ship');
    expect(row.primary.significant).toBe(true);
    expect(row.primary.pValue).toBe(tr.adjustedPValue);
    expect(row.primary.ci).toEqual(tr.relative.sequential.ci);
    expect(row.srm).toEqual({ flagged: page.srm.flagged, pValue: page.srm.pValue });
    // The time series' last day shows the table's persisted interval (same sequence, same data).
    const ts = await t.admin('GET', `/v1/experiments/${KEY}/results/timeseries`);
    expect(ts.status, JSON.stringify(ts.body)).toBe(200);
    const lastDay = ts.body.points.at(-1).lift.seq_signup.treatment;
    const after = (await read()).metrics[0].variants[1].relative.sequential;
    expect(lastDay.ci).toEqual(after.ci);
    // Earlier days are the running intersection of the day-end intervals: nested.
    const cis = ts.body.points.map((p: any) => p.lift.seq_signup.treatment.ci).filter((c: any) => c !== null);
    for (let i = 1; i < cis.length; i++) {
      expect(cis[i][0]).toBeGreaterThanOrEqual(cis[i - 1][0]);
      expect(cis[i][1]).toBeLessThanOrEqual(cis[i - 1][1]);
    }
    // The results' SRM is the anytime-valid test; the chi-square p is only a labelled extra.
    expect(page.srm.method).toBe('srm-dirichlet-multinomial');
    expect(typeof page.srm.chiSquarePValue).toBe('number');
    expect(page.srm.pValue).toBe(page.srm.sequentialPValue);
  });

  it('gives exactly the numbers of the in-memory results path (foldInMemory, as the simulations run it) from the same stored state', async () => {
    const def = await loadAnalysisDefinition(t.dataSource.manager, KEY);
    for (let peek = 0; peek < 3; peek++) {
      await seed(1500, 40 + peek, (v) => (v === 'treatment' ? 0.105 : 0.1));
      await t.app.get(AnalysisEngineService).settled();
      const rows: { metric_key: string; variant_key: string; config_hash: string; state: unknown }[] = await t.dataSource.query(
        "SELECT metric_key, variant_key, config_hash, state FROM analysis_sequential_state WHERE experiment_key = $1 AND metric_key <> ''",
        [KEY],
      );
      const stored = new Map(rows.map((r) => [`${r.metric_key}\0${r.variant_key}\0${r.config_hash}`, JSON.stringify(r.state)]));
      const body = await read();
      const [c, tr] = body.metrics[0].variants;
      const arm = (v: any) => ({ ...EMPTY_ARM, n: v.units, sum: v.sum, sumSq: v.sum });
      const aggregates = new Map([['seq_signup', new Map([['control', arm(c)], ['treatment', arm(tr)]])]]);
      const units = new Map([['control', c.units], ['treatment', tr.units]]);
      const now = new Date(body.computedAt);
      const replay = foldInMemory(stored, new Map(), plannedN(def), body.dataThrough, (fold) =>
        buildResults(def, aggregates, units, DEFAULT_RESULTS_QUERY, new Date(body.dataThrough), now, fold),
      );
      const mine = replay.metrics[0].variants[1];
      for (const pick of [(x: any) => x.relative.sequential, (x: any) => x.absolute.sequential, (x: any) => x.msprt]) {
        expect(pick(mine).pValue).toBe(pick(tr).pValue);
        expect(pick(mine).adjustedPValue).toBe(pick(tr).adjustedPValue);
        expect(pick(mine).ci).toEqual(pick(tr).ci);
        expect(pick(mine).significant).toBe(pick(tr).significant);
      }
      expect(replay.decision).toEqual(body.decision);
    }
  });

  it('holds "Ready to ship" until the minimum duration (default 7 days) has passed, and the reason says what it waits for', async () => {
    const layer = await t.admin('POST', '/v1/layers', { key: 'young-layer', name: 'young' });
    expect(layer.status).toBe(201);
    const variants = [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }];
    const created = await t.admin('POST', '/v1/experiments', { key: 'young', name: 'young', layer: 'young-layer', variants, traffic: 100, primaryMetric: 'seq_signup' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await t.admin('POST', '/v1/experiments/young/start', { startedAt: isoAgo(3 * 86_400_000) });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await seed(8000, 77, (v) => (v === 'treatment' ? 0.14 : 0.1), 'young');
    const res = await t.admin('GET', '/v1/experiments/young/results');
    expect(res.status).toBe(200);
    expect(res.body.metrics[0].variants[1].relative.sequential.significant).toBe(true);
    expect(res.body.readiness.ready).toBe(false);
    expect(res.body.readiness.daysRun).toBeGreaterThan(2.99);
    expect(res.body.readiness.daysRun).toBeLessThan(3.1);
    expect(res.body.decision.hint).toBe('keep_running');
    expect(res.body.decision.reason).toMatch(/waits for a full weekly cycle: 3\.0 of 7 days run/);
    // Per experiment: a 2-day minimum lets it ship now.
    expect((await t.admin('PATCH', '/v1/experiments/young', { minDurationDays: 2 })).status).toBe(200);
    const again = await t.admin('GET', '/v1/experiments/young/results');
    expect(again.body.readiness).toMatchObject({ ready: true, minDurationDays: 2 });
    expect(again.body.decision.hint).toBe('ship');
  });

  it('starts a new labelled sequence when alpha or the correction changes, and resumes the old one when it comes back', async () => {
    const before = (await read()).metrics[0].variants[1].relative.sequential;
    const a10 = await read('?alpha=0.1');
    const seq10 = a10.metrics[0].variants[1].relative.sequential;
    expect(seq10.sequence).toMatchObject({ sequence: 2, restartReason: 'alpha changed', reads: 1 });
    expect(seq10.sequence.key).toContain('alpha=0.1');
    // A new sequence starts from today's numbers alone.
    const fresh10 = stateless(a10, 0.1).relative;
    expect(seq10.pValue).toBeCloseTo(fresh10.pValue, 12);
    expect(seq10.pValue).toBeGreaterThan(before.pValue);
    const bonf = (await read('?alpha=0.1&correction=bonferroni')).metrics[0].variants[1].relative.sequential;
    expect(bonf.sequence).toMatchObject({ sequence: 3, restartReason: 'correction changed', reads: 1 });
    const again = (await read('?alpha=0.1')).metrics[0].variants[1].relative.sequential;
    expect(again.sequence).toMatchObject({ sequence: 2, reads: 2 });
    const back = (await read()).metrics[0].variants[1].relative.sequential;
    expect(back.sequence.sequence).toBe(1);
    expect(back.sequence.reads).toBeGreaterThan(before.sequence.reads);
    expect(back.pValue).toBe(before.pValue);
    expect(back.ci).toEqual(before.ci);
  });

  it('remembers a bounded number of configurations per experiment, and still answers the ones past the cap', async () => {
    for (let i = 0; i < 70; i++) await read(`?alpha=${(0.01 + i * 0.0005).toFixed(4)}`);
    const [{ n }]: { n: string }[] = await t.dataSource.query('SELECT count(DISTINCT config_hash) AS n FROM analysis_sequential_state WHERE experiment_key = $1', [KEY]);
    expect(Number(n)).toBeLessThanOrEqual(MAX_SEQUENCES_PER_EXPERIMENT);
    expect(Number(n)).toBeGreaterThan(MAX_SEQUENCES_PER_EXPERIMENT / 2);
    const past = await read('?alpha=0.4321');
    expect(past.alpha).toBe(0.4321);
  });

  it('answers a corrupt stored state with 400 invalid_statistics_input, never a 500 or a silently repaired number', async () => {
    await t.dataSource.query(
      `UPDATE analysis_sequential_state SET state = jsonb_set(state, '{pValue}', '2') WHERE experiment_key = $1 AND config_hash LIKE 'relative#%' AND state->>'sequence' = '1'`,
      [KEY],
    );
    const res = await t.admin('GET', `/v1/experiments/${KEY}/results`);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('invalid_statistics_input');
    expect(res.body.error.message).toMatch(/pValue/);
  });

  it('decides auto-stop on the same folded guardrail intervals the page shows, not on fresh ones that disagree', async () => {
    // Harm early (errors 9% vs 5%), then more data with none: the fresh interval of the harm comes
    // back to cover 0, the folded (intersected) one the page shows stays above it (and not empty).
    const key = 'seq-guard';
    await startExperiment(t, { key, primary: 'seq_signup', guardrails: ['seq_errors'], autoStop: false });
    const page = async () => {
      const res = await t.admin('GET', `/v1/experiments/${key}/results`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await t.app.get(AnalysisEngineService).settled();
      return res.body.guardrails[0];
    };
    next = 1_000_000; // its own unit ids, whichever tests ran before: the data are the same every run
    await seed(3000, 31, (v) => (v === 'treatment' ? 0.1 : 0.05), key, 'seq_errors');
    expect((await page()).status).toBe('harm');
    await seed(9000, 40, () => 0.05, key, 'seq_errors');
    const folded = await page();
    const body = (await t.admin('GET', `/v1/experiments/${key}/results`)).body;
    const [c, tr] = body.metrics.find((m: any) => m.metric === 'seq_errors').variants;
    const fresh = resultsTable(
      [{ name: 'seq_errors', kind: 'proportion', control: { n: c.units, sum: c.sum, sumSq: c.sum }, variants: [{ name: 'treatment', stats: { n: tr.units, sum: tr.sum, sumSq: tr.sum } }] }],
      { ...STATS_OPTIONS, alpha: 0.05, plannedSampleSize: plannedN(await loadAnalysisDefinition(t.dataSource.manager, key)) },
    ).comparisons[0].sequential.relative;
    // The premise: fresh says "no harm shown" (its interval covers 0), the page says harm.
    expect(fresh.ci?.[0]).toBeLessThan(0);
    expect(folded.status, JSON.stringify(folded)).toBe('harm');
    expect(folded.harmCi[1]).toBeGreaterThan(folded.harmCi[0]);
    // The PM sees harm and switches auto-stop on: the guardrail sweep stops it, with the page's interval.
    expect((await t.admin('PATCH', `/v1/experiments/${key}`, { autoStop: true })).status).toBe(200);
    const report = await t.app.get(GuardrailService).runOnce();
    expect(report.stopped).toContain(key);
    expect((await t.admin('GET', `/v1/experiments/${key}`)).body.status).toBe('stopped');
    const audit = await t.admin('GET', `/v1/audit?entityKey=${key}`);
    const finding = audit.body.items.find((a: any) => a.action === 'experiment.guardrail_finding');
    expect(finding.after.findings[0].details.harmCi).toEqual(folded.harmCi);
  }, 180_000);
});
