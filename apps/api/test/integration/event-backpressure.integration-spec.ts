import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { EventRow } from '../../src/modules/event/store/event-row';
import { EventWriter } from '../../src/modules/event/store/event-writer';
import { createTestApp } from '../helpers/test-app';

const metrics = (n: number, name: string) =>
  Array.from({ length: n }, (_, i) => ({ id: randomUUID(), type: 'metric', unitId: `u${i}`, name }));

const rowsFor = (events: ReturnType<typeof metrics>): EventRow[] => {
  const now = Date.now();
  return events.map((e) => ({
    id: e.id,
    type: 'metric',
    unitId: e.unitId,
    experimentKey: null,
    variantKey: null,
    name: e.name,
    value: null,
    ts: now,
    attributes: null,
    apiKeyId: null,
    forced: false,
  }));
};

describe('backpressure and limits', () => {
  it('answers 503 with Retry-After when the write queue is full, and stores exactly what it acknowledged', async () => {
    const t = await createTestApp({ STRATA_EVENT_QUEUE_MAX: '1000' });
    try {
      const key = (await t.admin('POST', '/v1/api-keys', { name: 'bp', type: 'sdk-server' })).body.secret;
      const results = await Promise.all(
        Array.from({ length: 30 }, () => t.request('POST', '/v1/events', { body: { events: metrics(600, 'bp') }, key })),
      );
      const codes = results.map((r) => r.status);
      expect(codes.every((c) => c === 202 || c === 503)).toBe(true);
      const refused = results.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0].headers['retry-after']).toBe('1');
      expect(refused[0].body.error.code).toBe('unavailable');
      const acked = results.filter((r) => r.status === 202).reduce((n, r) => n + r.body.accepted, 0);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int n FROM events WHERE name = 'bp'`);
      expect(n).toBe(acked);
    } finally {
      await t.close();
    }
  });

  it('shares a burst among its connections: ten 1,000-row writes queued at once become two 5,000-row transactions', async () => {
    const t = await createTestApp({ STRATA_EVENT_WRITERS: '2', STRATA_EVENT_BATCH_MAX: '20000' });
    try {
      const writer = t.app.get(EventWriter);
      await writer.write(rowsFor(metrics(1, 'share-warm')));
      const before = { ...writer.counters };
      const results = await Promise.all(Array.from({ length: 10 }, () => writer.write(rowsFor(metrics(1000, 'share')))));
      expect(results.every((r) => r.accepted === 1000)).toBe(true);
      // Everything fits one 20,000-row group; handing it all to one connection would leave the other idle.
      expect(writer.counters.transactions - before.transactions).toBe(2);
      expect(writer.counters.rows - before.rows).toBe(10_000);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int n FROM events WHERE name = 'share'`);
      expect(n).toBe(10_000);
    } finally {
      await t.close();
    }
  });

  it('keeps the 1 MiB limit on POST /v1/events when the global body limit is raised', async () => {
    const t = await createTestApp({ STRATA_BODY_LIMIT: String(4 * 1024 * 1024) });
    try {
      const key = (await t.admin('POST', '/v1/api-keys', { name: 'big', type: 'sdk-server' })).body.secret;
      const events = Array.from({ length: 900 }, (_, i) => ({
        type: 'metric',
        unitId: `b${i}`,
        name: 'x',
        attributes: { pad: 'p'.repeat(1000), pad2: 'q'.repeat(300) },
      }));
      const res = await t.request('POST', '/v1/events', { body: { events }, key });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
    } finally {
      await t.close();
    }
  });

  it('rate-limits per API key with 429 and Retry-After', async () => {
    const t = await createTestApp({ STRATA_RATE_LIMIT_RPS: '1', STRATA_RATE_LIMIT_BURST: '3' });
    try {
      const a = (await t.admin('POST', '/v1/api-keys', { name: 'a', type: 'sdk-server' })).body.secret;
      const b = (await t.admin('POST', '/v1/api-keys', { name: 'b', type: 'sdk-client' })).body.secret;
      const send = (key: string) => t.request('POST', '/v1/events', { body: { events: metrics(1, 'rl') }, key });
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await send(a)).status);
      expect(codes).toEqual([202, 202, 202, 429, 429]);
      const limited = await send(a);
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.body.error.code).toBe('rate_limited');
      // Another key has its own bucket.
      expect((await send(b)).status).toBe(202);
      expect((await t.admin('GET', '/v1/events/stats')).body.rateLimited).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('on shutdown stops accepting, commits what is in flight, then closes', async () => {
    const t = await createTestApp();
    const key = (await t.admin('POST', '/v1/api-keys', { name: 'sd', type: 'sdk-server' })).body.secret;
    const base = await t.listen();
    const inFlight = Array.from({ length: 20 }, async () => {
      const events = metrics(500, 'shutdown');
      const res = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      }).catch(() => null);
      return { status: res?.status ?? -1, accepted: res?.status === 202 ? ((await res.json()) as { accepted: number }).accepted : 0 };
    });
    // Close while requests are queued or being written.
    const writer = t.app.get(EventWriter);
    while (writer.queueDepth === 0 && writer.counters.transactions === 0) await new Promise((r) => setTimeout(r, 2));
    // What main.ts does on SIGTERM.
    await t.app.close();
    const results = await Promise.all(inFlight);
    const acked = results.reduce((n, r) => n + r.accepted, 0);
    expect(results.map((r) => r.status).filter((s) => ![202, 503, -1].includes(s))).toEqual([]);
    expect(results.some((r) => r.status === 202)).toBe(true);
    // The app closed its own pool; count from a fresh connection.
    const pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    const { rows } = await pg.query(`SELECT count(*)::int n FROM events WHERE name = 'shutdown'`);
    await pg.end();
    expect(rows[0].n).toBe(acked);
    await t.close().catch(() => undefined);
  });
});
