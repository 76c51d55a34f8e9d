import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Anytime-valid SRM in the guardrail tick consumer (issue 15), through the HTTP API on real
 * PostgreSQL: checked after each of many ticks, a healthy 50/50 split is never stopped, while a
 * 52/48 split is auto-stopped; the results carry the sequential test's method, params and p.
 */

let t: TestApp;
let sdkKey: string;
let next = 0;
const ROUNDS = 16;
const PER_ROUND = 1500;

/** Exposes PER_ROUND new units of `key`; `keep(variant, u)` drops some exposures. */
async function round(key: string, rng: ReturnType<typeof createRng>, keep: (variant: string, u: number) => boolean): Promise<void> {
  const unitIds = Array.from({ length: PER_ROUND }, () => `${key}-u${next++}`);
  const variants = await assignedVariants(t, sdkKey, key, unitIds);
  const now = Date.now();
  const events: SentEvent[] = [];
  for (const unitId of unitIds) {
    const variant = variants.get(unitId) as string;
    if (!keep(variant, rng.uniform())) continue;
    events.push({ type: 'exposure', unitId, experiment: key, variant, timestamp: isoAgo(120_000, now) });
  }
  await sendEvents(t, sdkKey, events);
  await t.app.get(AnalysisEngineService).catchUp();
  await t.app.get(AnalysisEngineService).settled();
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'srm_signup', type: 'conversion', eventName: 'srm_signup', cupedLookbackDays: 0 });
  await startExperiment(t, { key: 'srm-healthy', primary: 'srm_signup', autoStop: true });
  await startExperiment(t, { key: 'srm-skewed', primary: 'srm_signup', autoStop: true });
  await createMetric(t, { key: 'crashes', type: 'conversion', eventName: 'crash', direction: 'decrease', cupedLookbackDays: 0 });
  await startExperiment(t, { key: 'zero-base', primary: 'srm_signup', guardrails: ['crashes'], autoStop: true });
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('anytime-valid SRM in the guardrail consumer', () => {
  it('never stops a healthy 50/50 experiment checked after every one of many ticks', async () => {
    const rng = createRng(7);
    for (let i = 0; i < ROUNDS; i++) await round('srm-healthy', rng, () => true);
    const exp = await t.admin('GET', '/v1/experiments/srm-healthy');
    expect(exp.body.status).toBe('running');
    const res = await t.admin('GET', '/v1/experiments/srm-healthy/results');
    expect(res.status).toBe(200);
    expect(res.body.srm.method).toBe('srm-dirichlet-multinomial');
    expect(res.body.srm.params).toMatchObject({ level: 0.001, concentration: 1000 });
    expect(res.body.srm.params.checks).toBeGreaterThanOrEqual(ROUNDS);
    expect(res.body.srm.sequentialPValue).toBeGreaterThan(0.001);
    expect(res.body.srm.counts.control + res.body.srm.counts.treatment).toBe(ROUNDS * PER_ROUND);
  });

  it('auto-stops a 52/48 split on 50/50 weights', async () => {
    const rng = createRng(8);
    // Keep 48/52 of control's exposures: about 52% of the units end up in treatment.
    for (let i = 0; i < ROUNDS; i++) {
      await round('srm-skewed', rng, (v, u) => v !== 'control' || u < 0.48 / 0.52);
      if ((await t.admin('GET', '/v1/experiments/srm-skewed')).body.status !== 'running') break;
    }
    const exp = await t.admin('GET', '/v1/experiments/srm-skewed');
    expect(exp.body.status).toBe('stopped');
    const res = await t.admin('GET', '/v1/experiments/srm-skewed/results');
    const { control, treatment } = res.body.srm.counts;
    expect(treatment / (control + treatment)).toBeGreaterThan(0.51);
    expect(res.body.srm.sequentialPValue).toBeLessThanOrEqual(0.001);
    expect(res.body.srm.params.sequentialFlagged).toBe(1);
    const audit = await t.dataSource.query(`SELECT after FROM audit_log WHERE entity_key = 'srm-skewed' AND action = 'experiment.guardrail_finding'`);
    expect(audit).toHaveLength(1);
    expect(audit[0].after.findings[0]).toMatchObject({ kind: 'srm', details: { method: 'srm-dirichlet-multinomial' } });
  });

  it('stops for harm on a zero baseline: 0 crashes in control vs 60 in treatment (about 50,000 units each)', async () => {
    const unitIds = Array.from({ length: 100_000 }, (_, i) => `zb-u${i}`);
    const variants = await assignedVariants(t, sdkKey, 'zero-base', unitIds);
    const now = Date.now();
    const events: SentEvent[] = [];
    let crashes = 0;
    for (const unitId of unitIds) {
      const variant = variants.get(unitId) as string;
      events.push({ type: 'exposure', unitId, experiment: 'zero-base', variant, timestamp: isoAgo(120_000, now) });
      if (variant === 'treatment' && crashes < 60) {
        crashes++;
        events.push({ type: 'metric', unitId, name: 'crash', timestamp: isoAgo(60_000, now) });
      }
    }
    await sendEvents(t, sdkKey, events);
    const res = await t.admin('GET', '/v1/experiments/zero-base/results');
    expect(res.status).toBe(200);
    await t.app.get(AnalysisEngineService).settled();
    const crash = res.body.metrics.find((m: any) => m.metric === 'crashes');
    expect(crash.variants[0].sum).toBe(0);
    expect(crash.variants[1].sum).toBe(60);
    // The relative lift is undefined (no baseline); the absolute interval decides, with the right sign.
    expect(crash.variants[1].relative.sequential.reason).toBeDefined();
    const g = res.body.guardrails.find((x: any) => x.metric === 'crashes');
    expect(g.status).toBe('harm');
    expect(g.harmCi[0]).toBeGreaterThan(0);
    expect(g.message).toMatch(/absolute/);
    expect(res.body.decision.hint).toBe('stop_for_harm');
    expect((await t.admin('GET', '/v1/experiments/zero-base')).body.status).toBe('stopped');
  }, 120_000);
});
