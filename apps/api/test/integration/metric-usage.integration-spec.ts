import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** GET /v1/metrics/:key/usage and GET /v1/metrics/event-names on real PostgreSQL, events through POST /v1/events. */

let t: TestApp;
let sdkKey: string;

beforeAll(async () => {
  t = await createTestApp();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'buy', type: 'conversion', eventName: 'buy' });
  await createMetric(t, { key: 'latency', type: 'mean', eventName: 'latency_ms', direction: 'decrease' });
  await createMetric(t, { key: 'unused', type: 'count', eventName: 'click' });
  await startExperiment(t, { key: 'exp-a', primary: 'buy', guardrails: ['latency'] });
  const draft = await t.admin('POST', '/v1/experiments', {
    key: 'exp-b',
    name: 'Experiment B',
    layer: 'exp-a-layer',
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
    traffic: 100,
    primaryMetric: 'latency',
    secondaryMetrics: ['buy'],
  });
  expect(draft.status, JSON.stringify(draft.body)).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/metrics/:key/usage', () => {
  it('lists each experiment with its role and status', async () => {
    const buy = await t.admin('GET', '/v1/metrics/buy/usage');
    expect(buy.status).toBe(200);
    expect(buy.body).toEqual({
      metric: 'buy',
      usedBy: [
        { key: 'exp-b', name: 'Experiment B', status: 'draft', role: 'secondary' },
        { key: 'exp-a', name: 'exp-a', status: 'running', role: 'primary' },
      ],
    });
    const latency = await t.admin('GET', '/v1/metrics/latency/usage');
    expect(latency.body.usedBy).toEqual([
      { key: 'exp-b', name: 'Experiment B', status: 'draft', role: 'primary' },
      { key: 'exp-a', name: 'exp-a', status: 'running', role: 'guardrail' },
    ]);
    expect((await t.admin('GET', '/v1/metrics/unused/usage')).body).toEqual({ metric: 'unused', usedBy: [] });
    expect((await t.admin('GET', '/v1/metrics/nope/usage')).status).toBe(404);
  });

  it('keeps a metric in use from being deleted (409), and deletes an unused one', async () => {
    const res = await t.admin('DELETE', '/v1/metrics/buy');
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).toContain('exp-a');
    expect((await t.admin('DELETE', '/v1/metrics/unused')).status).toBe(204);
  });
});

describe('GET /v1/metrics/event-names', () => {
  beforeAll(async () => {
    const events: SentEvent[] = [];
    const add = (name: string, n: number): void => {
      for (let i = 0; i < n; i++) events.push({ type: 'metric', unitId: `u-${name}-${i}`, name, value: 1, timestamp: isoAgo(60_000 + i) });
    };
    add('checkout_done', 5);
    add('checkout_start', 3);
    add('page_view', 4);
    add('check%in', 1);
    await sendEvents(t, sdkKey, events);
    // Older than the window (stored directly: the collector would refuse it): never suggested.
    const old = new Date(Date.now() - 10 * 86_400_000);
    await t.dataSource.query(
      `INSERT INTO events (id, type, unit_id, name, value, ts, received_at) VALUES ($1, 'metric', 'u-old', 'checkout_old', 1, $2, $2)`,
      [randomUUID(), old],
    );
  });

  it('returns names of the last 7 days, most frequent first, filtered by prefix and limited', async () => {
    await expect
      .poll(async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM events WHERE type = 'metric'`))[0].n, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe(14);
    const all = await t.admin('GET', '/v1/metrics/event-names');
    expect(all.status).toBe(200);
    expect(all.body.items).toEqual([
      { name: 'checkout_done', count: 5 },
      { name: 'page_view', count: 4 },
      { name: 'checkout_start', count: 3 },
      { name: 'check%in', count: 1 },
    ]);
    expect(Date.parse(all.body.since)).toBeLessThan(Date.now() - 6.9 * 86_400_000);
    const prefixed = await t.admin('GET', '/v1/metrics/event-names?prefix=checkout&limit=1');
    expect(prefixed.body.items).toEqual([{ name: 'checkout_done', count: 5 }]);
    // LIKE wildcards in the prefix are literal.
    expect((await t.admin('GET', '/v1/metrics/event-names?prefix=check%25')).body.items).toEqual([{ name: 'check%in', count: 1 }]);
    expect((await t.admin('GET', '/v1/metrics/event-names?prefix=check_')).body.items).toEqual([]);
  });

  it('rejects a limit over 50 and a prefix over 100 characters', async () => {
    expect((await t.admin('GET', '/v1/metrics/event-names?limit=51')).status).toBe(400);
    expect((await t.admin('GET', `/v1/metrics/event-names?prefix=${'a'.repeat(101)}`)).status).toBe(400);
  });
});
