import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '../../src/common/time/clock';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { WebhookService } from '../../src/modules/guardrail/webhook.service';
import { RolloutService } from '../../src/modules/rollout/rollout.service';
import { backdatedStart, createMetric, isoAgo, sendEvents, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Progressive rollouts (issue 17) on real PostgreSQL, every unit assigned through
 * POST /v1/assign/batch and every event sent through POST /v1/events. Time moves by the
 * injected Clock (never by waiting); the engine is driven tick by tick. Webhook notices are
 * received on a local HTTP server.
 */

const HOUR = 3_600_000;
let t: TestApp;
let sdkKey: string;
let ciKey: string;
let hooks: WebhookReceiver;
let clock: Clock;
let nextUnit = 0;

async function tick(): Promise<void> {
  const engine = t.app.get(AnalysisEngineService);
  await engine.catchUp();
  await engine.settled();
}

/** The engine's sweep after the clock moved (a step's duration ends without new events). */
async function sweep(hours: number): Promise<void> {
  clock.advance(hours * HOUR);
  await t.app.get(RolloutService).runOnce();
}

async function create(key: string, traffic = 1): Promise<void> {
  expect((await t.admin('POST', '/v1/layers', { key: `${key}-layer`, name: key })).status).toBe(201);
  const created = await t.admin('POST', '/v1/experiments', {
    key,
    name: key,
    layer: `${key}-layer`,
    traffic,
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
    primaryMetric: 'signup',
    guardrailMetrics: ['errors'],
    autoStop: false,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await t.admin('POST', `/v1/experiments/${key}/start`, { startedAt: backdatedStart() })).status).toBe(200);
}

/** Variants of `unitIds` as /v1/assign/batch answers them now (units not in the experiment are absent). */
async function variantsNow(key: string, unitIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < unitIds.length; i += 1000) {
    const res = await t.request('POST', '/v1/assign/batch', {
      key: sdkKey,
      body: { units: unitIds.slice(i, i + 1000).map((unitId) => ({ unitId })), experiments: [key] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const r of res.body.results as { unitId: string; assignments: { experiment: string; variant: string }[] }[]) {
      const a = r.assignments.find((x) => x.experiment === key);
      if (a) out.set(r.unitId, a.variant);
    }
  }
  return out;
}

/** Waits until the served snapshot has the experiment at `traffic` percent (the config feed reloads within moments). */
async function servedAt(key: string, traffic: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await t.request('GET', '/v1/sdk/config', { key: sdkKey });
    const exp = (res.body.experiments as { key: string; ranges: { start: number; end: number }[] }[]).find((e) => e.key === key);
    const buckets = (exp?.ranges ?? []).reduce((s, r) => s + r.end - r.start, 0);
    if (buckets === Math.round(traffic * 100)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`snapshot never served ${key} at ${traffic}%`);
}

/** Assigns `ids` new units, exposes the ones in the experiment; an error event with probability errorRate(variant). */
async function expose(
  key: string,
  ids: number,
  seed: number,
  errorRate: (v: string) => number,
  keep: (v: string, u: number) => boolean = () => true,
): Promise<number> {
  const rng = createRng(seed);
  const unitIds = Array.from({ length: ids }, () => `${key}-u${nextUnit++}`);
  const variants = await variantsNow(key, unitIds);
  const now = Date.now();
  const events: SentEvent[] = [];
  for (const [unitId, variant] of variants) {
    if (!keep(variant, rng.uniform())) continue;
    events.push({ type: 'exposure', unitId, experiment: key, variant, timestamp: isoAgo(120_000, now) });
    if (rng.uniform() < errorRate(variant)) events.push({ type: 'metric', unitId, name: 'error', timestamp: isoAgo(60_000, now) });
  }
  await sendEvents(t, sdkKey, events);
  await tick();
  return events.filter((e) => e.type === 'exposure').length;
}

async function plan(key: string, as = ciKey): Promise<any> {
  const res = await t.request('GET', `/v1/experiments/${key}/rollout`, { key: as });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const noticeFor = (key: string, type: string, n = 1): Promise<any[]> => hooks.noticeFor(key, type, n);

const healthy = () => 0.05;

beforeAll(async () => {
  hooks = await startWebhookReceiver();
  t = await createTestApp({
    STRATA_ROLLUP_LAG_MS: '0',
    STRATA_WEBHOOK_URL: hooks.url,
  });
  t.app.get(WebhookService).backoffMs = 20;
  clock = t.app.get(Clock);
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  const ci = await t.admin('POST', '/v1/api-keys', { name: 'deploy pipeline', type: 'ci' });
  expect(ci.status, JSON.stringify(ci.body)).toBe(201);
  expect(ci.body.secret).toMatch(/^sk_ci_/);
  ciKey = ci.body.secret;
  await createMetric(t, { key: 'signup', type: 'conversion', eventName: 'signup', cupedLookbackDays: 0 });
  await createMetric(t, {
    key: 'errors',
    type: 'conversion',
    eventName: 'error',
    direction: 'decrease',
    harmThreshold: 0.05,
    cupedLookbackDays: 0,
  });
}, 180_000);
afterAll(async () => {
  await t?.close();
  await hooks?.close();
});

describe('rollout plans', () => {
  it('refuses bad plans with 400 naming the field, a plan on a draft (409 rollout_conflict) and a second plan (409 rollout_exists)', async () => {
    await create('plan-errors');
    const down = await t.admin('POST', '/v1/experiments/plan-errors/rollout', { steps: [{ traffic: 5 }, { traffic: 1 }] });
    expect(down.status).toBe(400);
    expect(down.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'steps.1.traffic' })]));
    const none = await t.admin('POST', '/v1/experiments/plan-errors/rollout', { steps: [] });
    expect(none.status).toBe(400);
    const long = await t.admin('POST', '/v1/experiments/plan-errors/rollout', { steps: [{ traffic: 1, minDurationSeconds: 91 * 86_400 }] });
    expect(long.body.error.details[0].path).toBe('steps.0.minDurationSeconds');
    expect((await t.admin('GET', '/v1/experiments/plan-errors/rollout')).status).toBe(404);
    expect((await t.admin('POST', '/v1/experiments/plan-errors/rollout', { steps: [{ traffic: 1 }] })).status).toBe(201);
    const twice = await t.admin('POST', '/v1/experiments/plan-errors/rollout', { steps: [{ traffic: 1 }] });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('rollout_exists');
    const skip = await t.admin('POST', '/v1/experiments/plan-errors/rollout/skip', { toStep: 5 });
    expect(skip.status).toBe(409);
    expect(skip.body.error.code).toBe('rollout_conflict');
    expect((await t.admin('POST', '/v1/layers', { key: 'draft-layer', name: 'd' })).status).toBe(201);
    expect(
      (
        await t.admin('POST', '/v1/experiments', {
          key: 'draft-exp',
          name: 'd',
          layer: 'draft-layer',
          variants: [
            { key: 'a', weight: 0.5 },
            { key: 'b', weight: 0.5 },
          ],
        })
      ).status,
    ).toBe(201);
    const draft = await t.admin('POST', '/v1/experiments/draft-exp/rollout', { steps: [{ traffic: 1 }] });
    expect(draft.status).toBe(409);
    expect(draft.body.error.code).toBe('rollout_conflict');
  });

  it('advances a healthy plan through its steps by itself once each step holds its minimums, with a webhook per step', async () => {
    await create('healthy', 0.5);
    const steps = [
      { traffic: 1, minDurationSeconds: 3600, minExposedUnits: 30 },
      { traffic: 5, minDurationSeconds: 3600, minExposedUnits: 100 },
      { traffic: 20, minDurationSeconds: 7200, minExposedUnits: 300 },
      { traffic: 100 },
    ];
    const created = await t.admin('POST', '/v1/experiments/healthy/rollout', { steps, onHarm: 'last_safe' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'running', currentStep: 0, traffic: 1, health: 'waiting' });
    await servedAt('healthy', 1);
    // Units but not the duration: waits.
    expect(await expose('healthy', 6000, 1, healthy)).toBeGreaterThanOrEqual(30);
    let p = await plan('healthy');
    expect(p).toMatchObject({ currentStep: 0, health: 'waiting' });
    expect(p.waiting.secondsLeft).toBeGreaterThan(3000);
    expect(p.waiting.unitsLeft).toBe(0);
    // The duration but not yet the units of step 1.
    await sweep(1.01);
    p = await plan('healthy');
    expect(p).toMatchObject({ currentStep: 1, traffic: 5, lastSafeStep: 0, status: 'running' });
    await servedAt('healthy', 5);
    await sweep(2);
    expect((await plan('healthy')).currentStep).toBe(1);
    expect((await plan('healthy')).waiting.unitsLeft).toBe(100);
    await expose('healthy', 3000, 2, healthy);
    // The tick consumer advanced it (duration long met).
    p = await plan('healthy');
    expect(p).toMatchObject({ currentStep: 2, traffic: 20 });
    await servedAt('healthy', 20);
    await expose('healthy', 2000, 3, healthy);
    expect((await plan('healthy')).currentStep).toBe(2);
    await sweep(2.01);
    p = await plan('healthy');
    expect(p).toMatchObject({ currentStep: 3, traffic: 100 });
    await sweep(0.01);
    p = await plan('healthy');
    expect(p).toMatchObject({ status: 'completed', health: 'healthy', currentStep: 3, traffic: 100 });
    expect(p.history.map((h: any) => [h.action, h.toStep, h.traffic, h.actor])).toEqual([
      ['create', 0, 1, 'bootstrap (STRATA_ADMIN_KEY)'],
      ['advance', 1, 5, 'rollouts'],
      ['advance', 2, 20, 'rollouts'],
      ['advance', 3, 100, 'rollouts'],
      ['complete', 3, 100, 'rollouts'],
    ]);
    const hooks = await noticeFor('healthy', 'rollout.step_changed', 5);
    expect(hooks.map((h) => h.toStep)).toEqual([0, 1, 2, 3, 3]);
    expect(hooks[1]).toMatchObject({ action: 'advance', fromStep: 0, toStep: 1, traffic: 5, actor: 'rollouts' });
    const audit = await t.admin('GET', '/v1/audit?entityType=experiment&entityKey=healthy&limit=100');
    const actions = audit.body.items.map((a: any) => a.action);
    expect(actions.filter((a: string) => a === 'rollout.advance')).toHaveLength(3);
    expect(actions.filter((a: string) => a === 'experiment.rollout_ramp')).toHaveLength(4);
  }, 120_000);

  it('reverts to the last safe step on seeded guardrail harm at step 2, with the numbers, an audit entry and a webhook', async () => {
    await create('harm', 1);
    const steps = [
      { traffic: 10, minDurationSeconds: 600, minExposedUnits: 100 },
      { traffic: 40, minDurationSeconds: 86_400, minExposedUnits: 1_000_000 },
      { traffic: 100 },
    ];
    expect((await t.admin('POST', '/v1/experiments/harm/rollout', { steps, onHarm: 'last_safe' })).status).toBe(201);
    await servedAt('harm', 10);
    await expose('harm', 3000, 10, healthy);
    await sweep(0.2);
    expect(await plan('harm')).toMatchObject({ currentStep: 1, traffic: 40 });
    await servedAt('harm', 40);
    // Step 2 (index 1): treatment errors 15 % vs 5 %, beyond the 5 % harm threshold.
    for (let round = 0; round < 4 && (await plan('harm')).status === 'running'; round++) {
      await expose('harm', 5000, 20 + round, (v) => (v === 'treatment' ? 0.15 : 0.05));
    }
    const p = await plan('harm');
    expect(p).toMatchObject({ status: 'reverted', health: 'reverted', currentStep: 0, lastSafeStep: 0, traffic: 10 });
    expect(p.revertReason).toMatch(/Guardrail errors shows harm in treatment/);
    const revert = p.history.at(-1);
    expect(revert).toMatchObject({ action: 'revert', fromStep: 1, toStep: 0, traffic: 10, actor: 'rollouts' });
    expect(revert.details.findings[0]).toMatchObject({ kind: 'guardrail_harm', details: { metric: 'errors', variant: 'treatment' } });
    expect(revert.details.findings[0].details.harmCi[0]).toBeGreaterThan(0);
    expect(revert.details.exposedUnits).toBeGreaterThan(1000);
    const audit = await t.dataSource.query(
      `SELECT actor_name, before, after FROM audit_log WHERE entity_key = 'harm' AND action = 'rollout.revert'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_name: 'rollouts',
      before: { currentStep: 1, traffic: 40 },
      after: { status: 'reverted', currentStep: 0, traffic: 10 },
    });
    expect(audit[0].after.details.findings[0].details.harmCi[0]).toBeGreaterThan(0);
    const [hook] = await noticeFor('harm', 'rollout.reverted');
    expect(hook).toMatchObject({ action: 'revert', fromStep: 1, toStep: 0, traffic: 10, status: 'reverted' });
    expect(hook.reason).toMatch(/harm/);
    expect(hook.details.findings[0].details.harmCi[0]).toBeGreaterThan(0);
    // The experiment keeps running at the safe step; a reverted plan does nothing more by itself.
    expect((await t.admin('GET', '/v1/experiments/harm')).body).toMatchObject({ status: 'running', traffic: 10 });
    await sweep(48);
    expect(await plan('harm')).toMatchObject({ status: 'reverted', currentStep: 0 });
  }, 180_000);

  it('reverts to 0 % on a sample ratio mismatch when the plan says so', async () => {
    await create('srm-plan', 1);
    const steps = [{ traffic: 50, minDurationSeconds: 86_400 }, { traffic: 100 }];
    expect((await t.admin('POST', '/v1/experiments/srm-plan/rollout', { steps, onHarm: 'zero' })).status).toBe(201);
    await servedAt('srm-plan', 50);
    // A third of control's exposures are lost: about 40/60.
    for (let round = 0; round < 8 && (await plan('srm-plan')).status === 'running'; round++) {
      await expose('srm-plan', 4000, 40 + round, healthy, (v, u) => v !== 'control' || u < 0.67);
    }
    const p = await plan('srm-plan');
    expect(p).toMatchObject({ status: 'reverted', currentStep: null, traffic: 0 });
    expect(p.revertReason).toMatch(/Sample ratio mismatch/);
    const finding = p.history.at(-1).details.findings[0];
    expect(finding).toMatchObject({ kind: 'srm', details: { method: 'srm-dirichlet-multinomial' } });
    expect(finding.details.sequentialPValue).toBeLessThanOrEqual(0.001);
    const [hook] = await noticeFor('srm-plan', 'rollout.reverted');
    expect(hook).toMatchObject({ toStep: null, traffic: 0 });
    await servedAt('srm-plan', 0);
    expect(
      (
        await variantsNow(
          'srm-plan',
          Array.from({ length: 2000 }, (_, i) => `srm-plan-u${i}`),
        )
      ).size,
    ).toBe(0);
  }, 180_000);

  it('lets a ci key pause, resume, advance now and revert; units in at step 1 keep their variant at step 3; a re-advance takes back the same buckets', async () => {
    await create('ci-sticky', 1);
    const steps = [
      { traffic: 10, minDurationSeconds: 86_400 },
      { traffic: 30, minDurationSeconds: 86_400 },
      { traffic: 60, minDurationSeconds: 86_400 },
      { traffic: 100 },
    ];
    expect((await t.request('POST', '/v1/experiments/ci-sticky/rollout', { key: ciKey, body: { steps } })).status).toBe(403);
    expect((await t.admin('POST', '/v1/experiments/ci-sticky/rollout', { steps })).status).toBe(201);
    await servedAt('ci-sticky', 10);
    const ranges0 = (await t.request('GET', '/v1/experiments/ci-sticky', { key: ciKey })).body.ranges;
    const ids = Array.from({ length: 20_000 }, (_, i) => `sticky-${i}`);
    const atStep1 = await variantsNow('ci-sticky', ids);
    expect(atStep1.size).toBeGreaterThan(1800);
    expect(atStep1.size).toBeLessThan(2200);

    const ci = (path: string, body: unknown = {}) => t.request('POST', `/v1/experiments/ci-sticky/rollout/${path}`, { key: ciKey, body });
    const res = await ci('pause', { reason: 'release freeze' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'paused', health: 'waiting' });
    expect(res.body.waiting.messages[0]).toMatch(/paused/);
    expect((await ci('pause')).body.error.code).toBe('rollout_conflict');
    expect((await ci('resume')).body).toMatchObject({ status: 'running', currentStep: 0 });
    expect((await ci('advance', { reason: 'deploy 41 green' })).body).toMatchObject({ status: 'running', currentStep: 1, traffic: 30 });
    expect((await ci('advance')).body).toMatchObject({ currentStep: 2, traffic: 60 });
    await servedAt('ci-sticky', 60);
    const atStep3 = await variantsNow('ci-sticky', ids);
    expect(atStep3.size).toBeGreaterThan(11_000);
    const moved = [...atStep1].filter(([u, v]) => atStep3.get(u) !== v);
    expect(moved).toEqual([]);

    // Revert to 0 % releases every bucket (as a ramp down does); a resume goes back to step 0 and takes back the experiment's own buckets first.
    expect((await ci('revert', { to: 'zero', reason: 'pager' })).body).toMatchObject({
      status: 'reverted',
      currentStep: null,
      traffic: 0,
      revertReason: 'pager',
    });
    await servedAt('ci-sticky', 0);
    expect((await variantsNow('ci-sticky', ids.slice(0, 3000))).size).toBe(0);
    const ledger = await t.admin('GET', '/v1/layers/ci-sticky-layer/ledger');
    expect(ledger.body.items.every((r: any) => r.releasedAt !== null)).toBe(true);
    expect((await ci('resume')).body).toMatchObject({ status: 'running', currentStep: 0, traffic: 10 });
    await servedAt('ci-sticky', 10);
    expect((await t.request('GET', '/v1/experiments/ci-sticky', { key: ciKey })).body.ranges).toEqual(ranges0);
    const back = await variantsNow('ci-sticky', ids);
    expect([...back].sort()).toEqual([...atStep1].sort());

    const history = (await plan('ci-sticky')).history.map((h: any) => `${h.action}:${h.toStep}:${h.actor}`);
    expect(history).toEqual([
      'create:0:bootstrap (STRATA_ADMIN_KEY)',
      'pause:0:deploy pipeline',
      'resume:0:deploy pipeline',
      'advance:1:deploy pipeline',
      'advance:2:deploy pipeline',
      'revert:null:deploy pipeline',
      'resume:0:deploy pipeline',
    ]);
    const audit = await t.dataSource.query(
      `SELECT action, actor_name FROM audit_log WHERE entity_key = 'ci-sticky' AND action LIKE 'rollout.%' ORDER BY id`,
    );
    expect(audit.map((a: any) => a.action)).toEqual([
      'rollout.create',
      'rollout.pause',
      'rollout.resume',
      'rollout.advance',
      'rollout.advance',
      'rollout.revert',
      'rollout.resume',
    ]);
    expect(new Set(audit.slice(1).map((a: any) => a.actor_name))).toEqual(new Set(['deploy pipeline']));
    const stickyHooks = hooks.notices.filter((n: any) => n.experiment === 'ci-sticky');
    expect(stickyHooks.length).toBeGreaterThanOrEqual(6);
  }, 180_000);

  it('skips to a named step by hand (not with a ci key) and deletes a plan, leaving the traffic', async () => {
    await create('skip-exp', 1);
    const steps = [{ traffic: 5, minDurationSeconds: 86_400 }, { traffic: 10, minDurationSeconds: 86_400 }, { traffic: 40 }];
    expect((await t.admin('POST', '/v1/experiments/skip-exp/rollout', { steps })).status).toBe(201);
    expect((await t.request('POST', '/v1/experiments/skip-exp/rollout/skip', { key: ciKey, body: { toStep: 2 } })).status).toBe(403);
    const skipped = await t.admin('POST', '/v1/experiments/skip-exp/rollout/skip', { toStep: 2, reason: 'hotfix verified' });
    expect(skipped.status, JSON.stringify(skipped.body)).toBe(200);
    expect(skipped.body).toMatchObject({ currentStep: 2, traffic: 40, lastSafeStep: null });
    expect(skipped.body.history.at(-1)).toMatchObject({ action: 'skip', fromStep: 0, toStep: 2, reason: 'hotfix verified' });
    expect((await t.request('DELETE', '/v1/experiments/skip-exp/rollout', { key: ciKey })).status).toBe(403);
    expect((await t.admin('DELETE', '/v1/experiments/skip-exp/rollout')).status).toBe(204);
    expect((await t.admin('GET', '/v1/experiments/skip-exp/rollout')).status).toBe(404);
    expect((await t.admin('GET', '/v1/experiments/skip-exp')).body.traffic).toBe(40);
    const audit = await t.dataSource.query(
      `SELECT action FROM audit_log WHERE entity_key = 'skip-exp' AND action LIKE 'rollout.%' ORDER BY id`,
    );
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['rollout.create', 'rollout.skip', 'rollout.delete']);
  });

  it('answers 403 to a ci key on every other route of the API (iterating the OpenAPI route table)', async () => {
    const allowed = new Set([
      'GET /v1/experiments/{key}',
      'GET /v1/experiments/{key}/rollout',
      'POST /v1/experiments/{key}/rollout/advance',
      'POST /v1/experiments/{key}/rollout/pause',
      'POST /v1/experiments/{key}/rollout/resume',
      'POST /v1/experiments/{key}/rollout/revert',
    ]);
    const publicRoutes = new Set(['GET /health', 'POST /v1/auth/login']);
    const doc = await t.request('GET', '/docs/json', { key: null });
    const routes = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(50);
    for (const r of allowed) expect(routes).toContain(r);
    const wrong: string[] = [];
    for (const route of routes) {
      if (allowed.has(route) || publicRoutes.has(route)) continue;
      const [method, path] = route.split(' ');
      const url = path.replace('{key}', 'ci-sticky').replace('{id}', '00000000-0000-4000-8000-000000000000');
      const res = await t.request(method, url, { key: ciKey, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
      if (res.status !== 403) wrong.push(`${route}: ${res.status}`);
    }
    expect(wrong).toEqual([]);
    // The fast assign route too, and the state is unchanged by all of it.
    const assign = await t.request('POST', '/v1/assign', { key: ciKey, body: { unitId: 'u1' } });
    expect(assign.status).toBe(403);
    expect(assign.body.error.message).toMatch(/ci key may only/);
    expect((await t.admin('GET', '/v1/experiments/ci-sticky')).body).toMatchObject({ status: 'running', traffic: 10 });
  }, 120_000);
});
