import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '../../src/common/time/clock';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { WebhookService } from '../../src/modules/guardrail/webhook.service';
import { RolloutService } from '../../src/modules/rollout/rollout.service';
import { backdatedStart, createMetric, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Ship as a rollout (issue 17) on real PostgreSQL: a staged ship gives the winner to a share of
 * targeted units by the ship draw, moved by hand (/ramp) or by a `ship` rollout plan that the
 * engine advances on the winner-vs-default harm test. Units are assigned through
 * POST /v1/assign/batch, events go through POST /v1/events, time moves by the injected Clock.
 */

const HOUR = 3_600_000;
let t: TestApp;
let sdkKey: string;
let hooks: WebhookReceiver;
let clock: Clock;
let nextUnit = 0;

async function tick(): Promise<void> {
  const engine = t.app.get(AnalysisEngineService);
  await engine.catchUp();
  await engine.settled();
}

async function sweep(hours: number): Promise<void> {
  clock.advance(hours * HOUR);
  await t.app.get(RolloutService).runOnce();
}

async function create(key: string, targeting: unknown = null): Promise<void> {
  expect((await t.admin('POST', '/v1/layers', { key: `${key}-layer`, name: key })).status).toBe(201);
  const created = await t.admin('POST', '/v1/experiments', {
    key,
    name: key,
    layer: `${key}-layer`,
    traffic: 100,
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
    targeting,
    primaryMetric: 'signup',
    guardrailMetrics: ['errors'],
    autoStop: false,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await t.admin('POST', `/v1/experiments/${key}/start`, { startedAt: backdatedStart() })).status).toBe(200);
}

/** Units of `unitIds` that /v1/assign/batch gives the shipped winner now. */
async function winnersNow(key: string, unitIds: string[], attributes?: Record<string, string>): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < unitIds.length; i += 1000) {
    const res = await t.request('POST', '/v1/assign/batch', {
      key: sdkKey,
      body: { units: unitIds.slice(i, i + 1000).map((unitId) => ({ unitId, attributes })), experiments: [key] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const r of res.body.results as { unitId: string; assignments: { experiment: string; variant: string; reason: string }[] }[]) {
      const a = r.assignments.find((x) => x.experiment === key);
      if (a) {
        expect(a).toMatchObject({ variant: 'treatment', reason: 'shipped' });
        out.add(r.unitId);
      }
    }
  }
  return out;
}

/** Waits until the served snapshot ships `key` with `shipShare` (undefined: a full ship, no share). */
async function servedShare(key: string, shipShare: number | undefined): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await t.request('GET', '/v1/sdk/config', { key: sdkKey });
    const exp = (res.body.experiments as { key: string; status: string; shipShare?: number }[]).find((e) => e.key === key);
    if (exp?.status === 'shipped' && exp.shipShare === shipShare) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`snapshot never served ${key} shipped at ${shipShare}`);
}

/** POST /v1/events; retries what the collector's catalog refuses while it catches up with a share change. */
async function send(events: SentEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    let batch = events.slice(i, i + 1000);
    for (let attempt = 0; batch.length > 0; attempt++) {
      const res = await t.request('POST', '/v1/events', { key: sdkKey, body: { events: batch } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const rejected = res.body.rejected as { index: number; code: string }[];
      if (rejected.length === 0) break;
      if (attempt > 100 || !rejected.every((r) => ['unknown_experiment', 'variant_mismatch'].includes(r.code)))
        throw new Error(`events rejected: ${JSON.stringify(rejected.slice(0, 3))}`);
      const bad = new Set(rejected.map((r) => r.index));
      batch = batch.filter((_, j) => bad.has(j));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** New units: their ship:<key> exposure in the arm assignment gives them, and an error with probability errorRate(arm). */
async function expose(key: string, ids: number, seed: number, errorRate: (arm: string) => number): Promise<number> {
  const rng = createRng(seed);
  const unitIds = Array.from({ length: ids }, () => `${key}-u${nextUnit++}`);
  const winners = await winnersNow(key, unitIds);
  const now = Date.now();
  const events: SentEvent[] = [];
  for (const unitId of unitIds) {
    const arm = winners.has(unitId) ? 'winner' : 'default';
    events.push({ type: 'exposure', unitId, experiment: `ship:${key}`, variant: arm, timestamp: new Date(now).toISOString() });
    if (rng.uniform() < errorRate(arm)) events.push({ type: 'metric', unitId, name: 'error', timestamp: new Date(now + 30_000).toISOString() });
  }
  await send(events);
  await tick();
  return unitIds.length;
}

async function plan(key: string): Promise<any> {
  const res = await t.admin('GET', `/v1/experiments/${key}/rollout`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const noticeFor = (key: string, type: string, n = 1): Promise<any[]> => hooks.noticeFor(key, type, n);

/** |n − share·N| within 5 binomial standard deviations. */
function nearShare(n: number, total: number, share: number): void {
  expect(Math.abs(n - share * total)).toBeLessThan(5 * Math.sqrt(total * share * (1 - share)));
}

const healthy = () => 0.05;
const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

beforeAll(async () => {
  hooks = await startWebhookReceiver();
  t = await createTestApp({
    STRATA_ROLLUP_LAG_MS: '0',
    STRATA_WEBHOOK_URL: hooks.url,
  });
  t.app.get(WebhookService).backoffMs = 20;
  clock = t.app.get(Clock);
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'signup', type: 'conversion', eventName: 'signup', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'errors', type: 'conversion', eventName: 'error', direction: 'decrease', harmThreshold: 0.05, cupedLookbackDays: 0 });
}, 180_000);
afterAll(async () => {
  await t?.close();
  await hooks?.close();
});

describe('staged ship by hand', () => {
  it('refuses a share of 0 and a share with a plan (400 naming the field)', async () => {
    await create('ship-errors');
    const zero = await t.admin('POST', '/v1/experiments/ship-errors/ship', { variant: 'treatment', traffic: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.details[0].path).toBe('traffic');
    const both = await t.admin('POST', '/v1/experiments/ship-errors/ship', { variant: 'treatment', traffic: 10, rollout: { steps: [{ traffic: 10 }] } });
    expect(both.status).toBe(400);
    expect(both.body.error.details[0].path).toBe('traffic');
    const badPlan = await t.admin('POST', '/v1/experiments/ship-errors/ship', { variant: 'treatment', rollout: { steps: [{ traffic: 50 }, { traffic: 10 }] } });
    expect(badPlan.status).toBe(400);
    expect(badPlan.body.error.details[0].path).toBe('rollout.steps.1.traffic');
    expect((await t.admin('GET', '/v1/experiments/ship-errors')).body.status).toBe('running');
  });

  it('gives the winner to the share of targeted units, monotone as /ramp moves it; 100 % is a full ship; a full ship still cannot be ramped', async () => {
    await create('ship-fixed', { attribute: 'plan', operator: 'eq', value: 'pro' });
    const shipped = await t.admin('POST', '/v1/experiments/ship-fixed/ship', { variant: 'treatment', traffic: 10 });
    expect(shipped.status, JSON.stringify(shipped.body)).toBe(200);
    expect(shipped.body).toMatchObject({ status: 'shipped', shippedVariant: 'treatment', shipTraffic: 10 });
    await servedShare('ship-fixed', 0.1);
    const units = ids('fixed', 10_000);
    const at10 = await winnersNow('ship-fixed', units, { plan: 'pro' });
    nearShare(at10.size, units.length, 0.1);
    expect((await winnersNow('ship-fixed', units.slice(0, 2000), { plan: 'free' })).size).toBe(0);

    const ramp = await t.admin('POST', '/v1/experiments/ship-fixed/ramp', { traffic: 50 });
    expect(ramp.status, JSON.stringify(ramp.body)).toBe(200);
    expect(ramp.body).toMatchObject({ status: 'shipped', shipTraffic: 50 });
    await servedShare('ship-fixed', 0.5);
    const at50 = await winnersNow('ship-fixed', units, { plan: 'pro' });
    nearShare(at50.size, units.length, 0.5);
    expect([...at10].filter((u) => !at50.has(u))).toEqual([]);

    // Down again: exactly the units the lower share covers keep the winner.
    expect((await t.admin('POST', '/v1/experiments/ship-fixed/ramp', { traffic: 10 })).status).toBe(200);
    await servedShare('ship-fixed', 0.1);
    expect([...(await winnersNow('ship-fixed', units, { plan: 'pro' }))].sort()).toEqual([...at10].sort());

    expect((await t.admin('POST', '/v1/experiments/ship-fixed/ramp', { traffic: 100 })).body.shipTraffic).toBe(100);
    await servedShare('ship-fixed', undefined);
    expect((await winnersNow('ship-fixed', units, { plan: 'pro' })).size).toBe(units.length);

    await create('ship-full');
    const full = await t.admin('POST', '/v1/experiments/ship-full/ship', { variant: 'control' });
    expect(full.status).toBe(200);
    expect(full.body.shipTraffic).toBeUndefined();
    const rampFull = await t.admin('POST', '/v1/experiments/ship-full/ramp', { traffic: 50 });
    expect(rampFull.status).toBe(409);
    expect(rampFull.body.error.code).toBe('invalid_transition');
  }, 120_000);

  it('logs ship:<key> exposures in both arms from /v1/assign/batch with logExposures, as the arms the assignments show', async () => {
    await create('ship-exposed');
    expect((await t.admin('POST', '/v1/experiments/ship-exposed/ship', { variant: 'treatment', traffic: 30 })).status).toBe(200);
    await servedShare('ship-exposed', 0.3);
    const units = ids('exposed', 600);
    const res = await t.request('POST', '/v1/assign/batch', { key: sdkKey, body: { units: units.map((unitId) => ({ unitId })), logExposures: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const winners = new Set(
      (res.body.results as { unitId: string; assignments: { experiment: string }[] }[]).filter((r) => r.assignments.some((a) => a.experiment === 'ship-exposed')).map((r) => r.unitId),
    );
    let rows: { unit_id: string; variant_key: string }[] = [];
    for (let i = 0; i < 100 && rows.length < units.length; i++) {
      rows = await t.dataSource.query(`SELECT unit_id, variant_key FROM first_exposures WHERE experiment_key = 'ship:ship-exposed'`);
      if (rows.length < units.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toHaveLength(units.length);
    for (const r of rows) expect(r.variant_key).toBe(winners.has(r.unit_id) ? 'winner' : 'default');
    nearShare(winners.size, units.length, 0.3);
    // The shipped winner is still no exposure of the experiment itself.
    expect(await t.dataSource.query(`SELECT 1 FROM first_exposures WHERE experiment_key = 'ship-exposed' AND first_ts > now() - interval '1 minute'`)).toEqual([]);
  }, 60_000);
});

describe('ship as a rollout', () => {
  it('advances a staged ship 10 → 50 → 100 % by itself on healthy guardrails; units with the winner at 10 % keep it at 50 %', async () => {
    await create('ship-plan');
    const steps = [
      { traffic: 10, minDurationSeconds: 3600, minExposedUnits: 200 },
      { traffic: 50, minDurationSeconds: 3600, minExposedUnits: 400 },
      { traffic: 100 },
    ];
    const shipped = await t.admin('POST', '/v1/experiments/ship-plan/ship', { variant: 'treatment', rollout: { steps, onHarm: 'last_safe' } });
    expect(shipped.status, JSON.stringify(shipped.body)).toBe(200);
    expect(shipped.body).toMatchObject({ status: 'shipped', shipTraffic: 10 });
    expect(await plan('ship-plan')).toMatchObject({ kind: 'ship', status: 'running', currentStep: 0, traffic: 10, health: 'waiting' });
    await servedShare('ship-plan', 0.1);
    const panel = ids('panel', 10_000);
    const at10 = await winnersNow('ship-plan', panel);
    nearShare(at10.size, panel.length, 0.1);

    expect(await expose('ship-plan', 1500, 1, healthy)).toBe(1500);
    let p = await plan('ship-plan');
    expect(p).toMatchObject({ currentStep: 0, exposedUnits: 1500 });
    expect(p.waiting.unitsLeft).toBe(0);
    expect(p.waiting.secondsLeft).toBeGreaterThan(3000);
    await sweep(1.01);
    p = await plan('ship-plan');
    expect(p).toMatchObject({ currentStep: 1, traffic: 50, lastSafeStep: 0, status: 'running' });
    expect((await t.admin('GET', '/v1/experiments/ship-plan')).body.shipTraffic).toBe(50);
    await servedShare('ship-plan', 0.5);
    const at50 = await winnersNow('ship-plan', panel);
    nearShare(at50.size, panel.length, 0.5);
    expect([...at10].filter((u) => !at50.has(u))).toEqual([]);

    await expose('ship-plan', 1500, 2, healthy);
    await sweep(1.01);
    p = await plan('ship-plan');
    expect(p).toMatchObject({ currentStep: 2, traffic: 100 });
    await servedShare('ship-plan', undefined);
    expect((await winnersNow('ship-plan', panel)).size).toBe(panel.length);
    await sweep(0.01);
    p = await plan('ship-plan');
    expect(p).toMatchObject({ kind: 'ship', status: 'completed', health: 'healthy', currentStep: 2, traffic: 100, findings: [] });
    expect(p.history.map((h: any) => [h.action, h.toStep, h.traffic, h.actor])).toEqual([
      ['create', 0, 10, 'bootstrap (STRATA_ADMIN_KEY)'],
      ['advance', 1, 50, 'rollouts'],
      ['advance', 2, 100, 'rollouts'],
      ['complete', 2, 100, 'rollouts'],
    ]);
    const hooks = await noticeFor('ship-plan', 'rollout.step_changed', 4);
    expect(hooks.map((h) => [h.action, h.traffic])).toEqual([
      ['create', 10],
      ['advance', 50],
      ['advance', 100],
      ['complete', 100],
    ]);
    const audit = await t.admin('GET', '/v1/audit?entityType=experiment&entityKey=ship-plan&limit=100');
    const actions = audit.body.items.map((a: any) => a.action);
    expect(actions.filter((a: string) => a === 'experiment.ship')).toHaveLength(1);
    expect(actions.filter((a: string) => a === 'rollout.advance')).toHaveLength(2);
    expect(actions.filter((a: string) => a === 'experiment.rollout_ramp')).toHaveLength(2);
    // A second plan on the shipped experiment is refused.
    const again = await t.admin('POST', '/v1/experiments/ship-plan/rollout', { steps: [{ traffic: 10 }] });
    expect(again.status).toBe(409);
  }, 180_000);

  it('reverts a staged ship to the last safe share on seeded harm of the winner, with the numbers, an audit entry and a webhook', async () => {
    await create('ship-harm');
    const steps = [
      { traffic: 10, minDurationSeconds: 600, minExposedUnits: 200 },
      { traffic: 50, minDurationSeconds: 86_400, minExposedUnits: 1_000_000 },
      { traffic: 100 },
    ];
    expect((await t.admin('POST', '/v1/experiments/ship-harm/ship', { variant: 'treatment', rollout: { steps } })).status).toBe(200);
    await servedShare('ship-harm', 0.1);
    const panel = ids('harm-panel', 5000);
    const at10 = await winnersNow('ship-harm', panel);
    await expose('ship-harm', 1500, 10, healthy);
    await sweep(0.2);
    expect(await plan('ship-harm')).toMatchObject({ currentStep: 1, traffic: 50 });
    await servedShare('ship-harm', 0.5);
    // At 50 %: the winner's units error 15 % of the time, the default's 5 %, beyond the 5 % threshold.
    for (let round = 0; round < 4 && (await plan('ship-harm')).status === 'running'; round++) {
      await expose('ship-harm', 4000, 20 + round, (arm) => (arm === 'winner' ? 0.15 : 0.05));
    }
    const p = await plan('ship-harm');
    expect(p).toMatchObject({ kind: 'ship', status: 'reverted', health: 'reverted', currentStep: 0, lastSafeStep: 0, traffic: 10 });
    expect(p.revertReason).toMatch(/Guardrail errors shows harm in winner/);
    const revert = p.history.at(-1);
    expect(revert).toMatchObject({ action: 'revert', fromStep: 1, toStep: 0, traffic: 10, actor: 'rollouts' });
    expect(revert.details.findings[0]).toMatchObject({ kind: 'guardrail_harm', details: { metric: 'errors', variant: 'winner' } });
    expect(revert.details.findings[0].details.harmCi[0]).toBeGreaterThan(0);
    // No SRM finding: the split follows the share, which moved.
    expect(revert.details.findings.map((f: any) => f.kind)).toEqual(['guardrail_harm']);
    const audit = await t.dataSource.query(`SELECT actor_name, before, after FROM audit_log WHERE entity_key = 'ship-harm' AND action = 'rollout.revert'`);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_name: 'rollouts', before: { currentStep: 1, traffic: 50 }, after: { status: 'reverted', currentStep: 0, traffic: 10 } });
    const [hook] = await noticeFor('ship-harm', 'rollout.reverted');
    expect(hook).toMatchObject({ action: 'revert', fromStep: 1, toStep: 0, traffic: 10, status: 'reverted' });
    expect(hook.details.findings[0].details.harmCi[0]).toBeGreaterThan(0);
    // The share is back at 10 %: exactly the units the 10 % share covered keep the winner.
    expect((await t.admin('GET', '/v1/experiments/ship-harm')).body).toMatchObject({ status: 'shipped', shipTraffic: 10 });
    await servedShare('ship-harm', 0.1);
    expect([...(await winnersNow('ship-harm', panel))].sort()).toEqual([...at10].sort());
    await sweep(48);
    expect(await plan('ship-harm')).toMatchObject({ status: 'reverted', currentStep: 0 });
  }, 180_000);
});
