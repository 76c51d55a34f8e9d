import { randomUUID } from 'node:crypto';
import type { AssignResponse, ConfigSnapshot, ExperimentDto, ExperimentResultsDto } from '@strata/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * A shipped experiment whose code has been removed from the app is concluded: it leaves every
 * /v1/assign reply and the SDK config, its results and audit stay readable, and nobody else's
 * assignment moves.
 */
let t: TestApp;
let sdkKey: string;

const body = (key: string, layer: string) => ({
  key,
  name: `Experiment ${key}`,
  layer,
  traffic: 50,
  variants: [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ],
  primaryMetric: 'conclude-clicks',
});

const sdk = <T>(method: string, url: string, payload?: unknown) => t.request<T>(method, url, { key: sdkKey, body: payload });
const assignOf = async (unitId: string): Promise<AssignResponse> => (await sdk<AssignResponse>('POST', '/v1/assign', { unitId })).body;
const configKeys = async (): Promise<string[]> => (await sdk<ConfigSnapshot>('GET', '/v1/sdk/config')).body.experiments.map((e) => e.key);
const assignedKeys = async (unitId: string): Promise<string[]> => (await assignOf(unitId)).assignments.map((a) => a.experiment);

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'server sdk', type: 'sdk-server' })).body.secret;
  expect((await t.admin('POST', '/v1/layers', { key: 'conclude-a', name: 'A' })).status).toBe(201);
  expect((await t.admin('POST', '/v1/layers', { key: 'conclude-b', name: 'B' })).status).toBe(201);
  expect((await t.admin('POST', '/v1/metrics', { key: 'conclude-clicks', name: 'Clicks', type: 'count', eventName: 'conclude_click' })).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

describe('concluding an experiment', () => {
  it('takes a shipped experiment out of assign replies and the SDK config, keeps results and audit, and moves nobody else', async () => {
    for (const [key, layer] of [
      ['banner', 'conclude-a'],
      ['other', 'conclude-b'],
    ] as const) {
      expect((await t.admin('POST', '/v1/experiments', body(key, layer))).status).toBe(201);
      expect((await t.admin('POST', `/v1/experiments/${key}/start`, {})).status).toBe(200);
    }
    await expect.poll(configKeys, { timeout: 5000, interval: 20 }).toEqual(['banner', 'other']);

    // Exposures (as assigned) and one click per unit for the banner experiment.
    const units = Array.from({ length: 60 }, (_, i) => `conclude-u${i}`);
    const events: Record<string, unknown>[] = [];
    for (const unitId of units) {
      const a = (await assignOf(unitId)).assignments.find((x) => x.experiment === 'banner');
      if (!a) continue;
      events.push({ id: randomUUID(), type: 'exposure', unitId, experiment: 'banner', variant: a.variant });
      events.push({ id: randomUUID(), type: 'metric', unitId, name: 'conclude_click', value: 1 });
    }
    const exposed = events.length / 2;
    expect(exposed).toBeGreaterThan(10);
    const ingest = await sdk<{ accepted: number; rejected: unknown[] }>('POST', '/v1/events', { events });
    expect(ingest.status).toBe(202);
    expect(ingest.body.rejected).toEqual([]);
    const resultUnits = async (): Promise<number> => (await t.admin<ExperimentResultsDto>('GET', '/v1/experiments/banner/results')).body.totalUnits;
    await expect.poll(resultUnits, { timeout: 15_000, interval: 100 }).toBe(exposed);

    const otherBefore = await Promise.all(units.map(async (u) => JSON.stringify((await assignOf(u)).assignments.filter((a) => a.experiment === 'other'))));

    // Shipped: everyone in targeting gets the winner; still in every reply and the config.
    expect((await t.admin('POST', '/v1/experiments/banner/ship', { variant: 'treatment' })).status).toBe(200);
    await expect.poll(async () => (await assignOf('conclude-u1')).assignments.find((a) => a.experiment === 'banner')?.reason, { timeout: 5000, interval: 20 }).toBe('shipped');
    expect(await configKeys()).toContain('banner');

    const concluded = await t.admin<ExperimentDto>('POST', '/v1/experiments/banner/conclude');
    expect(concluded.status).toBe(200);
    expect(concluded.body.status).toBe('concluded');
    expect(concluded.body.shippedVariant).toBe('treatment');
    expect(Date.parse(concluded.body.concludedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);

    await expect.poll(configKeys, { timeout: 5000, interval: 20 }).toEqual(['other']);
    for (const u of units.slice(0, 10)) expect(await assignedKeys(u)).not.toContain('banner');
    const batch = await sdk<{ results: { assignments: { experiment: string }[] }[] }>('POST', '/v1/assign/batch', { units: units.slice(0, 20).map((unitId) => ({ unitId })) });
    expect(batch.body.results.flatMap((r) => r.assignments.map((a) => a.experiment))).not.toContain('banner');

    // Nobody else moved: the other layer's experiment assigns every unit as before.
    const otherAfter = await Promise.all(units.map(async (u) => JSON.stringify((await assignOf(u)).assignments.filter((a) => a.experiment === 'other'))));
    expect(otherAfter).toEqual(otherBefore);

    // Results, the experiment itself and its audit stay readable.
    const resultsAfter = await t.admin<ExperimentResultsDto>('GET', '/v1/experiments/banner/results');
    expect(resultsAfter.status).toBe(200);
    expect(resultsAfter.body.status).toBe('concluded');
    expect(resultsAfter.body.totalUnits).toBe(exposed);
    expect(resultsAfter.body.metrics.find((m) => m.metric === 'conclude-clicks')?.variants.reduce((s, v) => s + v.sum, 0)).toBe(exposed);
    expect((await t.admin<ExperimentDto>('GET', '/v1/experiments/banner')).body.status).toBe('concluded');
    const audit = await t.admin<{ items: { action: string; before: ExperimentDto; after: ExperimentDto }[] }>('GET', '/v1/audit?entityType=experiment&entityKey=banner&action=experiment.conclude');
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].before.status).toBe('shipped');
    expect(audit.body.items[0].after.status).toBe('concluded');
    const listed = await t.admin<{ items: ExperimentDto[] }>('GET', '/v1/experiments?status=concluded');
    expect(listed.body.items.map((e) => e.key)).toEqual(['banner']);
  });

  it('concludes a stopped experiment too, and refuses drafts, running and concluded ones with 409', async () => {
    expect((await t.admin('POST', '/v1/experiments', body('draft-one', 'conclude-a'))).status).toBe(201);
    const draft = await t.admin('POST', '/v1/experiments/draft-one/conclude');
    expect(draft.status).toBe(409);
    expect(draft.body.error.code).toBe('invalid_transition');
    expect(draft.body.error.details[0]).toMatchObject({ path: 'status', status: 'draft', allowed: ['shipped', 'stopped'] });

    expect((await t.admin('POST', '/v1/experiments/draft-one/start', {})).status).toBe(200);
    expect((await t.admin('POST', '/v1/experiments/draft-one/conclude')).status).toBe(409);
    expect((await t.admin('POST', '/v1/experiments/draft-one/stop', { reason: 'done' })).status).toBe(200);
    const done = await t.admin<ExperimentDto>('POST', '/v1/experiments/draft-one/conclude');
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('concluded');
    expect(done.body.shippedVariant).toBeNull();

    const again = await t.admin('POST', '/v1/experiments/draft-one/conclude');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_transition');
    // A concluded experiment changes no more.
    expect((await t.admin('POST', '/v1/experiments/draft-one/ramp', { traffic: 10 })).status).toBe(409);
    expect((await t.admin('POST', '/v1/experiments/nope/conclude')).status).toBe(404);
    expect((await t.admin('POST', '/v1/experiments/Bad%20Key/conclude')).status).toBe(400);
  });
});
