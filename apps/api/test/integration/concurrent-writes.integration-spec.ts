import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/modules/api-key/api-key.service';
import { createTestApp, TEST_ADMIN_KEY, type TestApp, type TestResponse } from '../helpers/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const PARALLEL = 20;
const ROUNDS = 20;

function statusCounts(responses: TestResponse<any>[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** The one 201 of a burst of same-key creates, checked against the nineteen 409s and the sequential duplicate. */
async function expectOneWinner(responses: TestResponse<any>[], url: string, body: unknown, message: string): Promise<TestResponse<any>> {
  expect(statusCounts(responses)).toEqual({ 201: 1, 409: PARALLEL - 1 });
  const winner = responses.find((r) => r.status === 201);
  if (!winner) throw new Error('no 201');
  const sequential = await t.admin('POST', url, body);
  expect(sequential.status).toBe(409);
  for (const loser of [...responses.filter((r) => r.status === 409), sequential]) {
    expect(loser.body.error).toEqual({
      code: 'already_exists',
      message,
      details: [{ path: 'key', message: 'already exists' }],
      requestId: expect.any(String),
    });
  }
  return winner;
}

async function auditCount(entityType: string, key: string, action: string): Promise<number> {
  const rows: { n: number }[] = await t.dataSource.query(
    'SELECT count(*)::int AS n FROM audit_log WHERE entity_type = $1 AND entity_key = $2 AND action = $3',
    [entityType, key, action],
  );
  return rows[0]?.n ?? 0;
}

const experimentBody = (key: string, layer: string, name = `Experiment ${key}`) => ({
  key,
  name,
  layer,
  variants: [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ],
  traffic: 50,
});

describe('creating the same key concurrently', () => {
  it('creates a metric once and answers every other request 409 already_exists, like a sequential duplicate', async () => {
    const body = (i: number) => ({ key: 'dup-metric', name: `metric ${i}`, type: 'count', eventName: 'e' });
    const responses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => t.admin('POST', '/v1/metrics', body(i))));
    const winner = await expectOneWinner(responses, '/v1/metrics', body(99), 'A metric with key "dup-metric" already exists.');
    const stored = await t.admin('GET', '/v1/metrics/dup-metric');
    expect(stored.body).toEqual(winner.body);
    expect(await auditCount('metric', 'dup-metric', 'metric.create')).toBe(1);
  });

  it('creates an experiment once, never overwriting it with another request’s (UPDATE instead of INSERT)', async () => {
    expect((await t.admin('POST', '/v1/layers', { key: 'dup-layer', name: 'dup layer' })).status).toBe(201);
    const body = (i: number) => experimentBody('dup-experiment', 'dup-layer', `experiment ${i}`);
    const responses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => t.admin('POST', '/v1/experiments', body(i))));
    const winner = await expectOneWinner(responses, '/v1/experiments', body(99), 'An experiment with key "dup-experiment" already exists.');
    const stored = await t.admin('GET', '/v1/experiments/dup-experiment');
    expect(stored.body.name).toBe(winner.body.name);
    expect(stored.body).toEqual(winner.body);
    expect(await auditCount('experiment', 'dup-experiment', 'experiment.create')).toBe(1);
  });

  it('creates a layer once', async () => {
    const body = (i: number) => ({ key: 'dup-layer-2', name: `layer ${i}` });
    const responses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => t.admin('POST', '/v1/layers', body(i))));
    const winner = await expectOneWinner(responses, '/v1/layers', body(99), 'A layer with key "dup-layer-2" already exists.');
    expect((await t.admin('GET', '/v1/layers/dup-layer-2')).body.name).toBe(winner.body.name);
  });
});

/** Runs both at once, `b` held back by 0–9 ms depending on the round so that different interleavings get exercised. */
async function race<A, B>(a: () => Promise<A>, b: () => Promise<B>, round: number): Promise<[A, B]> {
  const first = a();
  await new Promise((resolve) => setTimeout(resolve, round % 10));
  const second = b();
  return [await first, await second];
}

describe('starting an experiment while its layer or itself is re-randomized', () => {
  // Both succeeding is fine when the re-randomize committed first (the experiment then starts on
  // the new salt); what must never happen is the salt changing once the start holds buckets.
  it('never changes a layer’s salt under a running experiment', async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const layer = `race-layer-${round}`;
      const experiment = `race-layer-exp-${round}`;
      expect((await t.admin('POST', '/v1/layers', { key: layer, name: layer })).status).toBe(201);
      expect((await t.admin('POST', '/v1/experiments', experimentBody(experiment, layer))).status).toBe(201);
      const [start, rerandomize] = await race(
        () => t.admin('POST', `/v1/experiments/${experiment}/start`),
        () => t.admin('POST', `/v1/layers/${layer}/rerandomize`, {}),
        round,
      );
      outcomes.set(`${start.status}/${rerandomize.status}`, (outcomes.get(`${start.status}/${rerandomize.status}`) ?? 0) + 1);
      // Re-randomizing never stands in the way of a start.
      expect(start.status).toBe(200);
      expect(start.body.ranges).toEqual([{ start: 0, end: 5000 }]);
      const stored = await t.admin('GET', `/v1/layers/${layer}`);
      if (rerandomize.status === 200) {
        // Inside its transaction, nothing held buckets in the layer: the start came after it.
        expect(rerandomize.body.allocations).toEqual([]);
        expect(stored.body.salt).toBe(rerandomize.body.salt);
      } else {
        expect(rerandomize.status).toBe(409);
        expect(rerandomize.body.error.code).toBe('conflict');
        expect(stored.body.salt).toBe(layer);
      }
      const audit = await t.admin('GET', `/v1/audit?entityType=layer&entityKey=${layer}&action=layer.rerandomize`);
      for (const entry of audit.body.items) expect(entry.after.allocations).toEqual([]);
    }
    console.info(`start/rerandomize outcomes: ${[...outcomes].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  });

  it('never changes an experiment’s salt once it started', async () => {
    expect((await t.admin('POST', '/v1/layers', { key: 'race-exp-layer', name: 'race' })).status).toBe(201);
    for (let round = 0; round < ROUNDS; round++) {
      const experiment = `race-exp-${round}`;
      expect((await t.admin('POST', '/v1/experiments', { ...experimentBody(experiment, 'race-exp-layer'), traffic: 1 })).status).toBe(201);
      const [start, rerandomize] = await race(
        () => t.admin('POST', `/v1/experiments/${experiment}/start`),
        () => t.admin('POST', `/v1/experiments/${experiment}/rerandomize`, {}),
        round,
      );
      expect(start.status).toBe(200);
      const stored = await t.admin('GET', `/v1/experiments/${experiment}`);
      if (rerandomize.status === 200) {
        expect(start.body.salt).toBe(rerandomize.body.salt);
      } else {
        expect(rerandomize.status).toBe(409);
        expect(rerandomize.body.error.code).toBe('invalid_transition');
        expect(start.body.salt).toBe(experiment);
      }
      expect(stored.body.salt).toBe(start.body.salt);
    }
  });
});

describe('creating an experiment while its layer is deleted', () => {
  it('answers each side 2xx or 4xx, never 500, and leaves no experiment in a deleted layer', async () => {
    const seen = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      const layer = `vanishing-${round}`;
      expect((await t.admin('POST', '/v1/layers', { key: layer, name: layer })).status).toBe(201);
      const [created, deleted] = await race(
        () => t.admin('POST', '/v1/experiments', experimentBody(`in-vanishing-${round}`, layer)),
        () => t.admin('DELETE', `/v1/layers/${layer}`),
        round,
      );
      for (const r of [created, deleted]) {
        seen.add(r.status);
        expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
      }
      if (created.status === 201) expect((await t.admin('GET', `/v1/layers/${layer}`)).status).toBe(200);
    }
    expect([...seen].some((s) => s >= 400)).toBe(true);
  });
});

describe('API processes starting on a database without an admin key', () => {
  it('create exactly one bootstrap admin key however many start at once', async () => {
    // What ten processes' start-up does (main.ts) at the same moment, each on its own connection.
    await t.dataSource.query(`DELETE FROM api_keys WHERE type = 'admin'`);
    try {
      const keys = t.app.get(ApiKeyService);
      const printed = (await Promise.all(Array.from({ length: 10 }, () => keys.ensureBootstrapKey(undefined)))).filter((s) => s !== null);
      expect(printed).toHaveLength(1);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int n FROM api_keys WHERE type = 'admin'`);
      expect(n).toBe(1);
    } finally {
      await t.app.get(ApiKeyService).ensureBootstrapKey(TEST_ADMIN_KEY);
    }
  });
});
