import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSees, hashedVariant, runningExperiment, type FixtureExperiment } from '../helpers/event-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let sdkKey: string;
let exp: FixtureExperiment;

beforeAll(async () => {
  t = await createTestApp();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'server sdk', type: 'sdk-server' })).body.secret;
  exp = await runningExperiment(t, 'checkout-button');
  await runningExperiment(t, 'draft-exp', {}, false);
});
afterAll(async () => {
  await t?.close();
});

const send = (events: unknown[], key = sdkKey) => t.request('POST', '/v1/events', { body: { events }, key });
const exposure = (unitId: string, extra: Record<string, unknown> = {}) => ({
  type: 'exposure',
  unitId,
  experiment: exp.key,
  variant: hashedVariant(exp, unitId),
  ...extra,
});
const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await t.dataSource.query(sql, params))[0].n);

describe('POST /v1/events', () => {
  it('stores valid events before answering 202 with accepted/duplicates/rejected', async () => {
    const id = randomUUID();
    const res = await send([
      exposure('u-1', { id }),
      { type: 'metric', unitId: 'u-1', name: 'purchase', value: 12.5, attributes: { plan: 'pro', tags: ['a', 'b'] } },
    ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    // Durable on 202: visible from another connection at once.
    expect(await count('SELECT count(*) n FROM events WHERE unit_id = $1', ['u-1'])).toBe(2);
    const [metric] = await t.dataSource.query(`SELECT * FROM events WHERE type = 'metric' AND unit_id = 'u-1'`);
    expect(metric.name).toBe('purchase');
    expect(metric.value).toBe(12.5);
    expect(metric.attributes).toEqual({ plan: 'pro', tags: ['a', 'b'] });
    expect(new Date(metric.received_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const [stored] = await t.dataSource.query('SELECT * FROM events WHERE id = $1', [id]);
    expect(stored.experiment_key).toBe(exp.key);
    expect(stored.api_key_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('stores every value exactly as sent (binary COPY): unicode, escapes, the extreme values accepted, millisecond times', async () => {
    const unitId = 'ユーザー🙂\t"\\\n,x';
    const ts = new Date(Date.now() - 3 * 86_400_000 + 7).toISOString(); // another day's partition
    const attributes = { 'ключ': 'значение 🙂', quote: '"\\', n: -0.5, big: 1e300, ok: true, none: null, list: ['a', 2, false] };
    const values = [-1e15, -42.125, 0, 1e-12, 0.30000000000000004, 123456789.98765432, 1e15];
    const ids = values.map(() => randomUUID());
    const res = await send(values.map((value, i) => ({ id: ids[i], type: 'metric', unitId, name: 'név 名前', value, timestamp: ts, attributes })));
    expect(res.body).toEqual({ accepted: values.length, duplicates: 0, rejected: [] });
    const rows = await t.dataSource.query('SELECT * FROM events WHERE id = ANY($1::uuid[]) ORDER BY value', [ids]);
    expect(rows.map((r: { value: number }) => r.value)).toEqual([...values].sort((a, b) => a - b));
    for (const r of rows) {
      expect(r.unit_id).toBe(unitId);
      expect(r.name).toBe('név 名前');
      expect(new Date(r.ts).toISOString()).toBe(ts);
      expect(r.attributes).toEqual(attributes);
      expect(r.experiment_key).toBeNull();
    }
    const [{ tableoid }] = await t.dataSource.query('SELECT tableoid::regclass::text AS tableoid FROM events WHERE id = $1', [ids[0]]);
    expect(tableoid).toBe(`events_${ts.slice(0, 10).replace(/-/g, '')}`);
  });

  it('stores an event id once: a retry and a repeat within one batch count as duplicates', async () => {
    const id = randomUUID();
    const first = await send([{ id, type: 'metric', unitId: 'u-2', name: 'click' }, { id, type: 'metric', unitId: 'u-2', name: 'click' }]);
    expect(first.body).toMatchObject({ accepted: 1, duplicates: 1 });
    const retry = await send([{ id: id.toUpperCase(), type: 'metric', unitId: 'u-2', name: 'click' }]);
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await count('SELECT count(*) n FROM events WHERE id = $1', [id])).toBe(1);
  });

  it('gives events without an id a server uuid v7 (such events cannot be deduplicated)', async () => {
    await send([{ type: 'metric', unitId: 'u-3', name: 'view' }]);
    await send([{ type: 'metric', unitId: 'u-3', name: 'view' }]);
    const rows = await t.dataSource.query(`SELECT id FROM events WHERE unit_id = 'u-3'`);
    expect(rows).toHaveLength(2);
    expect(rows[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps the earliest exposure per (experiment, unit), whatever the arrival order', async () => {
    const t0 = Date.now() - 3600_000;
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    await send([exposure('u-4', { timestamp: at(5000) })]);
    await send([exposure('u-4', { timestamp: at(1000) }), exposure('u-4', { timestamp: at(9000) })]);
    await send([exposure('u-4', { timestamp: at(3000) })]);
    const rows = await t.dataSource.query(`SELECT * FROM first_exposures WHERE experiment_key = $1 AND unit_id = 'u-4'`, [exp.key]);
    expect(rows).toHaveLength(1);
    expect(new Date(rows[0].first_ts).toISOString()).toBe(at(1000));
    expect(rows[0].variant_key).toBe(hashedVariant(exp, 'u-4'));
    expect(rows[0].forced).toBe(false);
  });

  it('rejects exposures that contradict the deterministic assignment or name an unknown or draft experiment, and keeps the rest', async () => {
    const wrong = hashedVariant(exp, 'u-5') === 'control' ? 'treatment' : 'control';
    const res = await send([
      exposure('u-5'),
      exposure('u-5', { variant: wrong }),
      exposure('u-5', { variant: 'nope' }),
      exposure('u-5', { experiment: 'no-such-exp' }),
      exposure('u-5', { experiment: 'draft-exp', variant: 'control' }),
      { type: 'metric', unitId: 'u-5', name: 'ok' },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r: any) => [r.index, r.code])).toEqual([
      [1, 'variant_mismatch'],
      [2, 'variant_mismatch'],
      [3, 'unknown_experiment'],
      [4, 'experiment_not_started'],
    ]);
    for (const r of res.body.rejected) expect(r.message.length).toBeGreaterThan(5);
    expect(await count(`SELECT count(*) n FROM first_exposures WHERE unit_id = 'u-5'`)).toBe(1);
  });

  it('checks a forced unit against its forced variant and marks its first exposure forced', async () => {
    const key = 'forced-exp';
    await runningExperiment(t, key, { forcedVariants: [{ unitId: 'vip', variant: 'treatment' }, { unitId: 'vip2', variant: 'control' }] });
    const res = await send([
      { type: 'exposure', unitId: 'vip', experiment: key, variant: 'treatment' },
      { type: 'exposure', unitId: 'vip2', experiment: key, variant: 'treatment' },
    ]);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected).toEqual([expect.objectContaining({ index: 1, code: 'variant_mismatch' })]);
    const [row] = await t.dataSource.query(`SELECT forced, variant_key FROM first_exposures WHERE experiment_key = $1`, [key]);
    expect(row).toEqual({ forced: true, variant_key: 'treatment' });
  });

  it('rejects exposures from before the start (5 minutes of clock skew allowed); a start can be backdated up to 7 days', async () => {
    const HOUR = 3_600_000;
    const draft = await runningExperiment(t, 'late-start', {}, false);
    const at = (ms: number) => new Date(Date.now() - ms).toISOString();
    for (const bad of [at(7 * 24 * HOUR + 60_000), new Date(Date.now() + 60_000).toISOString(), 'yesterday']) {
      const res = await t.admin('POST', '/v1/experiments/late-start/start', { startedAt: bad });
      expect([res.status, res.body.error.code, res.body.error.details[0].path], bad).toEqual([400, 'validation_failed', 'startedAt']);
    }
    const startedAt = at(HOUR);
    const started = await t.admin('POST', '/v1/experiments/late-start/start', { startedAt });
    expect([started.status, started.body.startedAt]).toEqual([200, startedAt]);
    await catalogSees(t, 'late-start', 'running');
    const exposure = (unitId: string, timestamp: string) => ({ type: 'exposure', unitId, experiment: 'late-start', variant: hashedVariant(draft, unitId), timestamp });
    const res = await send([exposure('ls-1', at(2 * HOUR)), exposure('ls-2', at(HOUR + 4 * 60_000)), exposure('ls-3', at(0))]);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([expect.objectContaining({ index: 0, code: 'before_start' })]);
    const stored = await t.dataSource.query(`SELECT unit_id FROM first_exposures WHERE experiment_key = 'late-start' ORDER BY unit_id`);
    expect(stored.map((r: { unit_id: string }) => r.unit_id)).toEqual(['ls-2', 'ls-3']);
  });

  it('accepts exposures of a stopped experiment only up to its stop time', async () => {
    const stopped = await runningExperiment(t, 'stopped-exp');
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    expect((await t.admin('POST', '/v1/experiments/stopped-exp/stop', { reason: 'done' })).status).toBe(200);
    await catalogSees(t, 'stopped-exp', 'stopped');
    const v = hashedVariant(stopped, 'u-6');
    const res = await send([
      { type: 'exposure', unitId: 'u-6', experiment: 'stopped-exp', variant: v, timestamp: before },
      { type: 'exposure', unitId: 'u-6', experiment: 'stopped-exp', variant: v },
    ]);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected).toEqual([expect.objectContaining({ index: 1, code: 'experiment_stopped' })]);
  });

  it('keeps client timestamps within 7 days back and 5 minutes ahead, rejects others, and always stores receive time', async () => {
    const now = Date.now();
    const res = await send([
      { type: 'metric', unitId: 'u-7', name: 'a', timestamp: new Date(now - 6 * 86400_000).toISOString() },
      { type: 'metric', unitId: 'u-7', name: 'b', timestamp: new Date(now - 8 * 86400_000).toISOString() },
      { type: 'metric', unitId: 'u-7', name: 'c', timestamp: new Date(now + 10 * 60_000).toISOString() },
      { type: 'metric', unitId: 'u-7', name: 'd', timestamp: new Date(now + 60_000).toISOString() },
    ]);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r: any) => [r.index, r.code])).toEqual([
      [1, 'timestamp_out_of_range'],
      [2, 'timestamp_out_of_range'],
    ]);
    const rows = await t.dataSource.query(`SELECT name, ts, received_at FROM events WHERE unit_id = 'u-7' ORDER BY name`);
    expect(new Date(rows[0].ts).getTime()).toBe(new Date(now - 6 * 86400_000).getTime());
    expect(new Date(rows[0].received_at).getTime()).toBeGreaterThanOrEqual(now - 1000);
    // Stored in its day's partition, not the DEFAULT one.
    expect(await count(`SELECT count(*) n FROM events_default`)).toBe(0);
  });
});

describe('bad input never causes a 500', () => {
  const cases: [string, unknown, string][] = [
    ['wrong type', { type: 'click', unitId: 'x' }, 'type'],
    ['missing unitId', { type: 'metric', name: 'x' }, 'unitId'],
    ['unitId not a string', { type: 'metric', unitId: 42, name: 'x' }, 'unitId'],
    ['empty unitId', { type: 'metric', unitId: '', name: 'x' }, 'unitId'],
    ['huge unitId', { type: 'metric', unitId: 'u'.repeat(257), name: 'x' }, 'unitId'],
    ['huge name', { type: 'metric', unitId: 'x', name: 'n'.repeat(201) }, 'name'],
    ['metric without name', { type: 'metric', unitId: 'x' }, 'name'],
    ['exposure without variant', { type: 'exposure', unitId: 'x', experiment: 'checkout-button' }, 'variant'],
    ['value not a number', { type: 'metric', unitId: 'x', name: 'x', value: '3' }, 'value'],
    // Squared and summed by the analysis: 1e200 would overflow it, 1e-200 underflow it (PostgreSQL errors on both).
    ['value too large for the analysis', { type: 'metric', unitId: 'x', name: 'x', value: 1e200 }, 'value'],
    ['value too small for the analysis', { type: 'metric', unitId: 'x', name: 'x', value: -1e-200 }, 'value'],
    ['bad id', { id: 'not-a-uuid', type: 'metric', unitId: 'x', name: 'x' }, 'id'],
    ['bad timestamp', { type: 'metric', unitId: 'x', name: 'x', timestamp: 'yesterday' }, 'timestamp'],
    ['deep attributes', { type: 'metric', unitId: 'x', name: 'x', attributes: { a: { b: 1 } } }, 'attributes'],
    ['too many attributes', { type: 'metric', unitId: 'x', name: 'x', attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, 'attributes'],
    ['huge attribute string', { type: 'metric', unitId: 'x', name: 'x', attributes: { a: 's'.repeat(2000) } }, 'attributes'],
    ['NUL in a string', { type: 'metric', unitId: 'a\u0000b', name: 'x' }, 'unitId'],
    ['unpaired surrogate in attributes', { type: 'metric', unitId: 'x', name: 'x', attributes: { a: '\ud800' } }, 'attributes'],
    ['not an object', 'hello', 'event'],
    ['null', null, 'event'],
    ['non-url-safe experiment key', { type: 'exposure', unitId: 'x', experiment: 'Bad Key', variant: 'control' }, 'experiment'],
  ];
  it.each(cases)('rejects %s per event and keeps the good one', async (_name, bad, path) => {
    const res = await send([bad, { type: 'metric', unitId: 'good', name: 'ok' }]);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected).toHaveLength(1);
    expect(res.body.rejected[0]).toMatchObject({ index: 0, code: 'invalid_event' });
    expect(res.body.rejected[0].message.startsWith(path)).toBe(true);
  });

  it('answers 400 for a non-JSON body or a body without an events array', async () => {
    const notJson = await t.request('POST', '/v1/events', { raw: '{"events": [', key: sdkKey, headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('malformed_json');
    for (const body of [{}, { events: 'x' }, { events: { a: 1 } }, [1, 2]]) {
      const res = await t.request('POST', '/v1/events', { body, key: sdkKey });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('answers 413 beyond 1,000 events or 1 MiB, storing nothing', async () => {
    const before = await count('SELECT count(*) n FROM events');
    const many = await send(Array.from({ length: 10_001 }, (_, i) => ({ type: 'metric', unitId: `m${i}`, name: 'x' })));
    expect(many.status).toBe(413);
    expect(many.body.error.code).toBe('payload_too_large');
    const justOver = await send(Array.from({ length: 1001 }, (_, i) => ({ type: 'metric', unitId: `m${i}`, name: 'x' })));
    expect(justOver.status).toBe(413);
    const big = await send(Array.from({ length: 900 }, (_, i) => ({ type: 'metric', unitId: `b${i}`, name: 'x', attributes: { pad: 'p'.repeat(1000), pad2: 'q'.repeat(300) } })));
    expect(big.status).toBe(413);
    expect(await count('SELECT count(*) n FROM events')).toBe(before);
    const exactly = await send(Array.from({ length: 1000 }, (_, i) => ({ type: 'metric', unitId: `m${i}`, name: 'x' })));
    expect(exactly.status).toBe(202);
    expect(exactly.body.accepted).toBe(1000);
  });

  it('needs an API key', async () => {
    const res = await send([{ type: 'metric', unitId: 'x', name: 'x' }], null as never);
    expect(res.status).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('documents the three event routes and the event fields', async () => {
    const doc = (await t.request('GET', '/docs/json', { key: null })).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/events/import', '/v1/events/stats']));
    const schema = doc.paths['/v1/events'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties.events.items.properties)).toEqual(
      expect.arrayContaining(['id', 'type', 'unitId', 'experiment', 'variant', 'name', 'value', 'timestamp', 'attributes']),
    );
  });
});

describe('GET /v1/events/stats', () => {
  it('counts accepted, duplicates and rejections by code (admin only)', async () => {
    const before = (await t.admin('GET', '/v1/events/stats')).body;
    const id = randomUUID();
    await send([{ id, type: 'metric', unitId: 's', name: 'x' }, { id, type: 'metric', unitId: 's', name: 'x' }, exposure('s', { experiment: 'nope' })]);
    const after = (await t.admin('GET', '/v1/events/stats')).body;
    expect(after.accepted - before.accepted).toBe(1);
    expect(after.duplicates - before.duplicates).toBe(1);
    expect((after.rejectedByCode.unknown_experiment ?? 0) - (before.rejectedByCode.unknown_experiment ?? 0)).toBe(1);
    expect(after.queue.max).toBeGreaterThan(0);
    expect((await t.request('GET', '/v1/events/stats', { key: sdkKey })).status).toBe(403);
  });
});

describe('POST /v1/events/import', () => {
  it('streams NDJSON through the same writer and reports totals and rejected lines', async () => {
    const ids = Array.from({ length: 12_000 }, () => randomUUID());
    const lines = ids.map((id, i) => JSON.stringify({ id, type: 'metric', unitId: `imp-${i}`, name: 'backfill', value: i }));
    lines.splice(10, 0, '{not json');
    lines.splice(20, 0, JSON.stringify({ type: 'metric', unitId: 'x' }));
    lines.push(JSON.stringify({ id: ids[0], type: 'metric', unitId: 'imp-0', name: 'backfill', value: 0 }));
    const body = `${lines.join('\n')}\n\n`;
    const res = await t.request('POST', '/v1/events/import', { raw: body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lines: 12_003 + 1, accepted: 12_000, duplicates: 1, rejectedCount: 2, truncated: false });
    expect(res.body.rejected.map((r: any) => [r.index, r.code])).toEqual([
      [11, 'invalid_event'],
      [21, 'invalid_event'],
    ]);
    expect(await count(`SELECT count(*) n FROM events WHERE name = 'backfill'`)).toBe(12_000);
  });

  it('accepts bodies far above the JSON body limit and caps the listed rejections', async () => {
    const line = JSON.stringify({ type: 'metric', unitId: 'x'.repeat(300), name: 'big' }); // unitId too long: rejected
    const body = `${Array.from({ length: 8000 }, () => line).join('\n')}\n`;
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    const res = await t.request('POST', '/v1/events/import', { raw: body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(res.status).toBe(200);
    expect(res.body.rejectedCount).toBe(8000);
    expect(res.body.rejectedByCode).toEqual({ invalid_event: 8000 });
    expect(res.body.rejected).toHaveLength(100);
    expect(res.body.truncated).toBe(true);
  });

  it('is admin-only and wants NDJSON', async () => {
    const sdk = await t.request('POST', '/v1/events/import', { raw: '{}\n', key: sdkKey, headers: { 'content-type': 'application/x-ndjson' } });
    expect(sdk.status).toBe(403);
    const json = await t.admin('POST', '/v1/events/import', { events: [] });
    expect(json.status).toBe(415);
  });
});
