import { createClient, type StrataClient } from '@strata/sdk';
import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { createMetric, startExperiment } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Holdouts (#17) through the HTTP API on real PostgreSQL: held-out units get nothing in the covered
 * layers (10,000 ids over HTTP and the same 10,000 in the SDK, identical), the share is within ±1 %
 * of the configured one, other layers are unaffected; a seeded cumulative effect is detected by the
 * holdout comparison (computed from the engine's stored statistics), an A/A one is not flagged.
 */

let t: TestApp;
let sdkKey: string;
let base: string;
const N = 10_000;
const ids = Array.from({ length: N }, (_, i) => `hu-${i}`);

type Result = { unitId: string; assignments: { experiment: string; variant: string; reason: string }[] };

async function assignAll(unitIds: string[], extra: Record<string, unknown> = {}): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (let i = 0; i < unitIds.length; i += 1000) {
    const res = await t.request('POST', '/v1/assign/batch', { key: sdkKey, body: { units: unitIds.slice(i, i + 1000).map((unitId) => ({ unitId })), ...extra } });
    expect(res.status, res.text).toBe(200);
    for (const r of res.body.results as Result[]) out.set(r.unitId, new Map(r.assignments.map((a) => [a.experiment, a.variant])));
  }
  return out;
}

/** Waits until the served snapshot has the holdout (the change feed rebuilds it within ~1 s). */
async function waitForHoldout(key: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await t.request('GET', '/v1/sdk/config', { key: sdkKey });
    if ((res.body.holdouts ?? []).some((h: { key: string }) => h.key === key)) {
      // The engine's job would build the new (empty) comparison within seconds; here a tick does.
      await t.app.get(AnalysisEngineService).catchUp();
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`holdout ${key} never reached the snapshot`);
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  base = await t.listen();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'h_buy', type: 'conversion', eventName: 'h_buy', cupedLookbackDays: 0 });
  for (const key of ['ha', 'hb', 'hfree', 'heff', 'haa']) await startExperiment(t, { key, primary: 'h_buy' });
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('holdout CRUD', () => {
  it('is admin-only, validated, audited, and keeps its share and salt fixed', async () => {
    const body = { key: 'h-crud', name: 'CRUD', share: 0.05, layers: ['ha-layer'], metrics: ['h_buy'] };
    expect((await t.request('POST', '/v1/holdouts', { key: sdkKey, body })).status).toBe(403);
    const bad = await t.admin('POST', '/v1/holdouts', { ...body, metrics: ['nope'], layers: ['missing-layer'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['layers.0', 'metrics.0']);
    expect((await t.admin('POST', '/v1/holdouts', { ...body, share: 0.7 })).status).toBe(400);
    const created = await t.admin('POST', '/v1/holdouts', body);
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ key: 'h-crud', share: 0.05, layers: ['ha-layer'], metrics: ['h_buy'] });
    expect((await t.admin('POST', '/v1/holdouts', body)).body.error.code).toBe('already_exists');
    const locked = await t.admin('PATCH', '/v1/holdouts/h-crud', { share: 0.1 });
    expect(locked.status).toBe(409);
    expect(locked.body.error.code).toBe('holdout_locked');
    const renamed = await t.admin('PATCH', '/v1/holdouts/h-crud', { name: 'Renamed', layers: null });
    expect(renamed.body).toMatchObject({ name: 'Renamed', layers: null });
    expect((await t.admin('GET', '/v1/holdouts')).body.items.map((h: { key: string }) => h.key)).toContain('h-crud');
    expect((await t.admin('DELETE', '/v1/holdouts/h-crud')).status).toBe(204);
    expect((await t.admin('GET', '/v1/holdouts/h-crud')).status).toBe(404);
    const audit = await t.admin('GET', '/v1/audit?entityType=holdout&entityKey=h-crud');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['holdout.delete', 'holdout.update', 'holdout.create']);
  });
});

describe('assignment with a holdout', () => {
  let client: StrataClient;
  afterAll(async () => {
    await client?.close();
  });

  it('gives held-out units nothing in the covered layers, over HTTP and in the SDK alike, and leaves other layers alone', async () => {
    const experiments = ['ha', 'hb', 'hfree'];
    // The snapshot must have every experiment started and no holdout left from the CRUD test.
    for (let i = 0; ; i++) {
      const config = (await t.request('GET', '/v1/sdk/config', { key: sdkKey })).body;
      const keys = new Set(config.experiments.map((e: { key: string }) => e.key));
      if ((config.holdouts ?? []).length === 0 && experiments.every((e) => keys.has(e))) break;
      if (i > 100) throw new Error('snapshot never settled');
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await assignAll(ids, { experiments });
    const created = await t.admin('POST', '/v1/holdouts', { key: 'h-global', name: 'Global 5 %', share: 0.05, layers: ['ha-layer', 'hb-layer'], metrics: ['h_buy'] });
    expect(created.status, created.text).toBe(201);
    await waitForHoldout('h-global');
    const after = await assignAll(ids, { experiments });

    client = createClient({ apiUrl: base, sdkKey, logExposures: false, flushIntervalMs: 60_000 });
    expect(await client.ready()).toBe(true);
    let held = 0;
    for (const id of ids) {
      const a = after.get(id) as Map<string, string>;
      const b = before.get(id) as Map<string, string>;
      // Every layer has 100 % traffic: a unit without ha has no hb either, and it is held out.
      const out = !a.has('ha');
      expect(a.has('hb')).toBe(!out);
      if (out) held++;
      else {
        expect(a.get('ha')).toBe(b.get('ha'));
        expect(a.get('hb')).toBe(b.get('hb'));
      }
      expect(a.get('hfree')).toBe(b.get('hfree'));
      for (const e of experiments) expect(client.getAssignment(e, id)?.variant ?? null).toBe(a.get(e) ?? null);
    }
    expect(Math.abs(held / N - 0.05)).toBeLessThanOrEqual(0.01);

    const heldId = ids.find((id) => !after.get(id)?.has('ha')) as string;
    const explained = await t.admin('GET', `/v1/explain?unitId=${heldId}&experiment=ha`);
    expect(explained.status, explained.text).toBe(200);
    expect(explained.body).toMatchObject({ outcome: 'in_holdout', holdout: 'h-global', assignment: null });
    expect(explained.body.message).toContain('in holdout "h-global"');
  });
});

/**
 * Exposes `n` units through `/v1/assign/batch` with logExposures (which records each unit's
 * holdout exposure, in either arm), then sends a conversion per unit drawn with `rate(inHoldout, variant)`.
 */
async function simulate(prefix: string, experiment: string, n: number, seed: number, rate: (heldOut: boolean, variant: string | undefined) => number): Promise<void> {
  const rng = createRng(seed);
  const unitIds = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const assigned = await assignAll(unitIds, { experiments: [experiment], logExposures: true });
  const events = [];
  const ts = new Date(Date.now() + 1000).toISOString();
  for (const unitId of unitIds) {
    const variant = assigned.get(unitId)?.get(experiment);
    if (rng.uniform() < rate(variant === undefined, variant)) events.push({ type: 'metric', unitId, name: 'h_buy', value: 1, timestamp: ts });
  }
  for (let i = 0; i < events.length; i += 1000) {
    const res = await t.request('POST', '/v1/events', { key: sdkKey, body: { events: events.slice(i, i + 1000) } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.rejected).toEqual([]);
  }
}

describe('holdout results', () => {
  it('detect a seeded cumulative effect: treatment raised for the units not held out', async () => {
    expect((await t.admin('POST', '/v1/holdouts', { key: 'h-effect', name: 'Effect', share: 0.25, layers: ['heff-layer'], metrics: ['h_buy'] })).status).toBe(201);
    await waitForHoldout('h-effect');
    // Held out: 20 %; control 20 %; treatment 35 % → "rest" converts at ~27.5 %.
    await simulate('eff', 'heff', 8000, 17, (heldOut, v) => (heldOut ? 0.2 : v === 'treatment' ? 0.35 : 0.2));
    const res = await t.admin('GET', '/v1/holdouts/h-effect/results');
    expect(res.status, res.text).toBe(200);
    const { units, metrics, srm } = res.body;
    expect(units.holdout + units.rest).toBe(8000);
    expect(Math.abs(units.holdout / 8000 - 0.25)).toBeLessThan(0.02);
    expect(srm.flagged).toBe(false);
    const rest = metrics[0].variants.find((v: { variant: string }) => v.variant === 'rest');
    const holdout = metrics[0].variants.find((v: { variant: string }) => v.variant === 'holdout');
    expect(holdout.isControl).toBe(true);
    expect(holdout.mean).toBeGreaterThan(0.17);
    expect(holdout.mean).toBeLessThan(0.23);
    expect(rest.mean).toBeGreaterThan(0.25);
    expect(rest.absolute.sequential.significant).toBe(true);
    expect(rest.absolute.sequential.ci[0]).toBeGreaterThan(0);
    expect(rest.adjustedPValue).toBeLessThan(0.05);
  }, 120_000);

  it('do not flag an A/A holdout', async () => {
    expect((await t.admin('POST', '/v1/holdouts', { key: 'h-aa', name: 'A/A', share: 0.25, layers: ['haa-layer'], metrics: ['h_buy'] })).status).toBe(201);
    await waitForHoldout('h-aa');
    await simulate('aa', 'haa', 8000, 23, () => 0.25);
    const res = await t.admin('GET', '/v1/holdouts/h-aa/results');
    expect(res.status, res.text).toBe(200);
    expect(res.body.units.holdout + res.body.units.rest).toBe(8000);
    const rest = res.body.metrics[0].variants.find((v: { variant: string }) => v.variant === 'rest');
    expect(rest.absolute.sequential.significant).toBe(false);
    expect(rest.absolute.sequential.ci[0]).toBeLessThan(0);
    expect(rest.absolute.sequential.ci[1]).toBeGreaterThan(0);
    expect((await t.admin('GET', '/v1/holdouts/none/results')).status).toBe(404);
    expect((await t.admin('GET', '/v1/holdouts/h-aa/results?alpha=2')).status).toBe(400);
  }, 120_000);
});
