import { compileSnapshot, evaluate, type CompiledSnapshot } from '@strata/bucketing';
import type { Assignment, ConfigSnapshot } from '@strata/contracts';
import { BUCKETING_VECTORS, rawUnitId } from '@strata/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FastRoutes } from '../../src/common/http/fast-routes';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/*
 * Assignment over real HTTP: layers web (exp-a 30 %, exp-b 50 %) and search (exp-c 100 %,
 * targeted at DE/FR). Later tests change this configuration (ramp, stop, ship), so the
 * describe blocks run in order.
 */

let t: TestApp;
let baseUrl: string;
let sdkKey: string;

interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

async function http<T = any>(method: string, path: string, options: { body?: unknown; key?: string | null; headers?: Record<string, string>; raw?: string; base?: string } = {}): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const key = options.key === undefined ? sdkKey : options.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined = options.raw;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${options.base ?? baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

function expectError(res: HttpResult, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(Array.isArray(res.body.error.details)).toBe(true);
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await t.admin(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.text}`);
  return res.body;
}

const variants = (weights: Record<string, number>) => Object.entries(weights).map(([key, weight]) => ({ key, weight }));

async function createRunning(key: string, layer: string, traffic: number, weights: Record<string, number>, extra: Record<string, unknown> = {}): Promise<void> {
  await admin('POST', '/v1/experiments', { key, name: key, layer, variants: variants(weights), traffic, ...extra });
  await admin('POST', `/v1/experiments/${key}/start`);
}

const ids = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const attributesOf = (i: number) => ({ country: i % 2 === 0 ? 'DE' : 'US', plan: i % 3 === 0 ? 'pro' : 'free' });

/** Every unit's assignments: 9,000 through the batch endpoint (chunks of 1,000), 1,000 through single calls. */
async function assignAll(base = baseUrl): Promise<Map<string, Assignment[]>> {
  const out = new Map<string, Assignment[]>();
  const batched = ids.slice(0, 9000);
  for (let from = 0; from < batched.length; from += 1000) {
    const units = batched.slice(from, from + 1000).map((unitId, j) => ({ unitId, attributes: attributesOf(from + j) }));
    const res = await http('POST', '/v1/assign/batch', { body: { units }, base });
    expect(res.status).toBe(200);
    for (const r of res.body.results) out.set(r.unitId, r.assignments);
  }
  const singles = ids.slice(9000);
  for (let from = 0; from < singles.length; from += 25) {
    await Promise.all(
      singles.slice(from, from + 25).map(async (unitId, j) => {
        const res = await http('POST', '/v1/assign', { body: { unitId, attributes: attributesOf(9000 + from + j) }, base });
        expect(res.status).toBe(200);
        out.set(unitId, res.body.assignments);
      }),
    );
  }
  return out;
}

async function servedSnapshot(base = baseUrl): Promise<{ snapshot: ConfigSnapshot; etag: string }> {
  const res = await http<ConfigSnapshot>('GET', '/v1/sdk/config', { base });
  expect(res.status).toBe(200);
  return { snapshot: res.body, etag: res.headers.get('etag') ?? '' };
}

/** Polls until `check` holds; returns the milliseconds it took, or throws after `timeoutMs`. */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Exposures stored by the event collector (the writer resolves only after COMMIT). */
async function storedExposures(): Promise<number> {
  const rows: { n: string }[] = await t.dataSource.query(`SELECT count(*) AS n FROM events WHERE type = 'exposure'`);
  return Number(rows[0].n);
}
const share = (n: number, of: number) => n / of;

beforeAll(async () => {
  t = await createTestApp();
  baseUrl = await t.listen();
  sdkKey = (await admin('POST', '/v1/api-keys', { name: 'server sdk', type: 'sdk-server' })).secret;
  await admin('POST', '/v1/layers', { key: 'web', name: 'Web', salt: 'web-salt' });
  await admin('POST', '/v1/layers', { key: 'search', name: 'Search', salt: 'search-salt' });
  await createRunning('exp-a', 'web', 30, { control: 0.5, treatment: 0.5 });
  await createRunning('exp-b', 'web', 50, { a: 0.2, b: 0.3, c: 0.5 });
  await createRunning('exp-c', 'search', 100, { control: 0.7, treatment: 0.3 }, { targeting: { attribute: 'country', operator: 'in', value: ['DE', 'FR'] } });
  await admin('POST', '/v1/experiments', { key: 'exp-draft', name: 'draft', layer: 'search', variants: variants({ on: 0.5, off: 0.5 }), traffic: 0 });
  // Changes reach the snapshot through the change feed (NOTIFY), asynchronously: wait for them.
  await within(2000, async () => (await servedSnapshot()).snapshot.experiments.length === 3);
});
afterAll(async () => {
  await t?.close();
});

describe('authentication and validation', () => {
  it('accepts SDK and admin keys, answers 401 without a key and 403 to an SDK key on explain', async () => {
    expect((await http('POST', '/v1/assign', { body: { unitId: 'u1' } })).status).toBe(200);
    expect((await http('POST', '/v1/assign', { body: { unitId: 'u1' }, key: TEST_ADMIN_KEY })).status).toBe(200);
    expectError(await http('POST', '/v1/assign', { body: { unitId: 'u1' }, key: null }), 401, 'unauthorized');
    expectError(await http('POST', '/v1/assign/batch', { body: { units: [{ unitId: 'u1' }] }, key: null }), 401, 'unauthorized');
    expectError(await http('GET', '/v1/sdk/config', { key: null }), 401, 'unauthorized');
    expectError(await http('GET', '/v1/sdk/config', { key: 'sk_sdk_not-a-key' }), 401, 'unauthorized');
    expectError(await http('GET', '/v1/explain?unitId=u1&experiment=exp-a'), 403, 'forbidden');
    expect((await http('GET', '/v1/explain?unitId=u1&experiment=exp-a', { key: TEST_ADMIN_KEY })).status).toBe(200);
  });

  it('rejects bad assign bodies with 400 and the offending paths', async () => {
    const paths = async (body: unknown) => {
      const res = await http('POST', '/v1/assign', { body });
      expectError(res, 400, 'validation_failed');
      return res.body.error.details.map((d: any) => d.path);
    };
    expect(await paths({})).toContain('unitId');
    expect(await paths({ unitId: '' })).toContain('unitId');
    expect(await paths({ unitId: 'x'.repeat(257) })).toContain('unitId');
    expect(await paths({ unitId: 7 })).toContain('unitId');
    expect((await paths({ unitId: 'u', attributes: { country: { nested: true } } })).some((p: string) => p.startsWith('attributes'))).toBe(true);
    expect(await paths({ unitId: 'u', experiments: Array.from({ length: 101 }, (_, i) => `k${i}`) })).toContain('experiments');
    expect(await paths({ unitId: 'u', experiments: ['Not A Key'] })).toContain('experiments.0');
    expect(await paths({ unitId: 'u', logExposures: 'yes' })).toContain('logExposures');
    expect(await paths({ unitId: 'u', surprise: 1 })).toContain('');
    const malformed = await http('POST', '/v1/assign', { raw: '{"unitId":', headers: { 'x-request-id': 'req-assign-1' } });
    expectError(malformed, 400, 'malformed_json');
    expect(malformed.body.error.requestId).toBe('req-assign-1');
    expect(malformed.headers.get('x-request-id')).toBe('req-assign-1');
    // An empty JSON body is no body (action routes accept that); assign needs one, so its schema refuses it.
    expectError(await http('POST', '/v1/assign', { raw: '' }), 400, 'validation_failed');
    // Same answer as the Nest routes give a non-JSON body.
    const plain = await http('POST', '/v1/assign', { raw: 'unitId=u1', headers: { 'content-type': 'text/plain' } });
    const plainBatch = await http('POST', '/v1/assign/batch', { raw: 'unitId=u1', headers: { 'content-type': 'text/plain' } });
    expect([plain.status, plain.body.error.code]).toEqual([plainBatch.status, plainBatch.body.error.code]);
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(plain.status).toBeLessThan(500);
    expect((await http('POST', '/v1/assign', { body: { unitId: 'x'.repeat(256) } })).status).toBe(200);
  });

  it('answers POST /v1/assign alike through the fast route and through Fastify', async () => {
    // Over HTTP, Node's server answers plain JSON requests itself (common/http/fast-routes.ts) and
    // hands anything else to Fastify; inject() always goes through the Fastify route.
    const fastAnswers = vi.spyOn(t.app.get(FastRoutes) as unknown as { answer: (...args: unknown[]) => void }, 'answer');
    const cases: { name: string; body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string>; fast: boolean }[] = [
      { name: 'all assignments', body: { unitId: 'user-1', attributes: { country: 'DE' } }, fast: true },
      { name: 'some experiments', body: { unitId: 'user-2', experiments: ['exp-a', 'exp-c', 'unknown'] }, fast: true },
      { name: 'charset', body: { unitId: 'user-3' }, headers: { 'content-type': 'application/json; charset=utf-8' }, fast: true },
      { name: 'given request id', body: { unitId: 'user-4' }, headers: { 'x-request-id': 'req-parity-1' }, fast: true },
      { name: 'no key', body: { unitId: 'u' }, key: null, fast: true },
      { name: 'unknown key', body: { unitId: 'u' }, key: 'sk_server_not-a-key', fast: true },
      { name: 'invalid body', body: { unitId: '', surprise: 1 }, fast: true },
      { name: 'malformed JSON', raw: '{"unitId":', headers: { 'x-request-id': 'req-parity-2' }, fast: true },
      { name: 'empty body', raw: '', fast: true },
      { name: 'prototype poisoning', raw: '{"unitId":"u","__proto__":{"admin":true}}', fast: true },
      { name: 'not JSON', raw: 'unitId=u1', headers: { 'content-type': 'text/plain' }, fast: false },
      { name: 'from a web page', body: { unitId: 'user-5' }, headers: { origin: 'https://shop.example' }, fast: true },
      { name: 'from a web page, no key', body: { unitId: 'u' }, key: null, headers: { origin: 'https://shop.example' }, fast: true },
    ];
    const comparable = (status: number, body: any, header: (name: string) => string | undefined) => {
      const requestId = header('x-request-id');
      expect(requestId).toBeTruthy();
      if (body?.error) {
        expect(body.error.requestId).toBe(requestId);
        body = { error: { ...body.error, requestId: undefined } };
      }
      return {
        status,
        body,
        contentType: header('content-type'),
        retryAfter: header('retry-after'),
        cors: [header('access-control-allow-origin'), header('access-control-expose-headers'), header('vary')],
      };
    };
    for (const c of cases) {
      const before = fastAnswers.mock.calls.length;
      const viaHttp = await http('POST', '/v1/assign', { body: c.body, raw: c.raw, key: c.key, headers: c.headers });
      expect(fastAnswers.mock.calls.length - before, `${c.name}: served by the fast route`).toBe(c.fast ? 1 : 0);
      const viaFastify = await t.request('POST', '/v1/assign', {
        body: c.body,
        raw: c.raw,
        key: c.key === undefined ? sdkKey : c.key,
        headers: { 'content-type': 'application/json', ...c.headers },
      });
      expect(fastAnswers.mock.calls.length - before).toBe(c.fast ? 1 : 0);
      const fast = comparable(viaHttp.status, viaHttp.body, (name) => viaHttp.headers.get(name) ?? undefined);
      const slow = comparable(viaFastify.status, viaFastify.body, (name) => viaFastify.headers[name]?.toString());
      expect(fast, c.name).toEqual(slow);
      if (c.headers?.['x-request-id']) expect([viaHttp.headers.get('x-request-id'), viaFastify.headers['x-request-id']]).toEqual([c.headers['x-request-id'], c.headers['x-request-id']]);
      expect(viaHttp.headers.get('access-control-allow-origin') ?? null, c.name).toBe(c.headers?.origin ? '*' : null);
    }
    fastAnswers.mockRestore();
  });

  it('rejects batches beyond 1,000 units with 413 and bad units with 400 naming the unit', async () => {
    const tooMany = await http('POST', '/v1/assign/batch', { body: { units: Array.from({ length: 1001 }, (_, i) => ({ unitId: `u${i}` })) } });
    expectError(tooMany, 413, 'payload_too_large');
    expect(tooMany.body.error.details[0].path).toBe('units');
    const bad = await http('POST', '/v1/assign/batch', { body: { units: [{ unitId: 'a' }, { unitId: 'b' }, { unitId: 'c' }, { attributes: {} }] } });
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details.map((d: any) => d.path)).toContain('units.3.unitId');
    expectError(await http('POST', '/v1/assign/batch', { body: { units: [] } }), 400, 'validation_failed');
    expectError(await http('POST', '/v1/assign/batch', { body: { units: 'nope' } }), 400, 'validation_failed');
  });

  it('rejects explain queries with bad attributes JSON or missing fields', async () => {
    const bad = await http('GET', `/v1/explain?unitId=u1&experiment=exp-a&attributes=${encodeURIComponent('{nope')}`, { key: TEST_ADMIN_KEY });
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details[0].path).toBe('attributes');
    const missing = await http('GET', '/v1/explain?experiment=exp-a', { key: TEST_ADMIN_KEY });
    expectError(missing, 400, 'validation_failed');
    expect(missing.body.error.details.map((d: any) => d.path)).toContain('unitId');
  });
});

describe('assigning 10,000 units over HTTP', () => {
  let assigned: Map<string, Assignment[]>;
  let compiled: CompiledSnapshot;

  beforeAll(async () => {
    assigned = await assignAll();
    compiled = compileSnapshot((await servedSnapshot()).snapshot);
  });

  it('never puts a unit in two experiments of one layer', () => {
    expect(assigned.size).toBe(10_000);
    let both = 0;
    for (const list of assigned.values()) {
      const web = list.filter((a) => a.layer === 'web');
      if (web.length > 1) both++;
    }
    expect(both).toBe(0);
  });

  it('splits traffic and variants within tolerance of the configuration', () => {
    const count = (exp: string, variant?: string, among: (i: number) => boolean = () => true) =>
      ids.filter((id, i) => among(i) && (assigned.get(id) ?? []).some((a) => a.experiment === exp && (variant === undefined || a.variant === variant))).length;
    const n = ids.length;
    // ±~5 standard deviations of a binomial share; the hash is deterministic, so this never flakes.
    expect(share(count('exp-a'), n)).toBeCloseTo(0.3, 1);
    expect(Math.abs(share(count('exp-a'), n) - 0.3)).toBeLessThan(0.025);
    expect(Math.abs(share(count('exp-b'), n) - 0.5)).toBeLessThan(0.025);
    expect(Math.abs(share(count('exp-a', 'treatment'), count('exp-a')) - 0.5)).toBeLessThan(0.045);
    expect(Math.abs(share(count('exp-b', 'a'), count('exp-b')) - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(share(count('exp-b', 'c'), count('exp-b')) - 0.5)).toBeLessThan(0.035);
    // exp-c: every DE unit (100 % traffic), no US unit (targeting), 70/30 split.
    const de = (i: number) => i % 2 === 0;
    expect(count('exp-c', undefined, de)).toBe(5000);
    expect(count('exp-c', undefined, (i) => !de(i))).toBe(0);
    expect(Math.abs(share(count('exp-c', 'control'), 5000) - 0.7)).toBeLessThan(0.035);
    expect(count('exp-draft')).toBe(0);
  });

  it('matches libs/bucketing evaluate on the served snapshot for every unit, with reason bucketed', () => {
    let mismatches = 0;
    ids.forEach((id, i) => {
      const expected = evaluate(compiled, id, attributesOf(i));
      if (JSON.stringify(assigned.get(id)) !== JSON.stringify(expected)) mismatches++;
    });
    expect(mismatches).toBe(0);
    expect([...assigned.values()].flat().every((a) => a.reason === 'bucketed')).toBe(true);
  });

  it('limits the answer to the experiments asked for', async () => {
    const id = ids.find((x, i) => i % 2 === 0 && (assigned.get(x) ?? []).some((a) => a.experiment === 'exp-a'))!;
    const res = await http('POST', '/v1/assign', { body: { unitId: id, attributes: { country: 'DE' }, experiments: ['exp-c', 'exp-unknown'] } });
    expect(res.body.assignments.map((a: Assignment) => a.experiment)).toEqual(['exp-c']);
  });
});

describe('GET /v1/sdk/config', () => {
  it('serves running experiments with their ranges, salts and targeting, and no drafts', async () => {
    const { snapshot } = await servedSnapshot();
    expect(snapshot.layers).toEqual([
      { key: 'search', salt: 'search-salt' },
      { key: 'web', salt: 'web-salt' },
    ]);
    const byKey = new Map(snapshot.experiments.map((e) => [e.key, e]));
    expect([...byKey.keys()].sort()).toEqual(['exp-a', 'exp-b', 'exp-c']);
    const buckets = (key: string) => byKey.get(key)!.ranges.reduce((s, r) => s + r.end - r.start, 0);
    expect(buckets('exp-a')).toBe(3000);
    expect(buckets('exp-b')).toBe(5000);
    expect(byKey.get('exp-c')).toMatchObject({ status: 'running', salt: 'exp-c', targeting: { attribute: 'country', operator: 'in', value: ['DE', 'FR'] } });
    expect(byKey.get('exp-b')!.variants).toEqual(variants({ a: 0.2, b: 0.3, c: 0.5 }));
  });

  it('sends a strong content ETag with Cache-Control no-cache, answers 304 to If-None-Match and 200 to a stale tag', async () => {
    const first = await http('GET', '/v1/sdk/config');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(etag).toBe(`"${first.body.version}"`);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const again = await fetch(`${baseUrl}/v1/sdk/config`, { headers: { authorization: `Bearer ${sdkKey}`, 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const stale = await http('GET', '/v1/sdk/config', { headers: { 'if-none-match': '"0000"' } });
    expect(stale.status).toBe(200);
  });
});

describe('published bucketing vectors through the API', () => {
  const groups = [...new Map(BUCKETING_VECTORS.map((v) => [`${v.layerSalt}|${v.experimentSalt}`, v])).values()];
  const keyOf = (i: number) => `vec-${i}`;

  beforeAll(async () => {
    for (const [i, v] of groups.entries()) {
      await admin('POST', '/v1/layers', { key: keyOf(i), name: `vectors ${i}`, salt: v.layerSalt });
      await createRunning(keyOf(i), keyOf(i), 100, Object.fromEntries(v.variants.map((k, j) => [k, v.weights[j]])), { salt: v.experimentSalt });
    }
    await within(2000, async () => (await servedSnapshot()).snapshot.experiments.some((e) => e.key === keyOf(groups.length - 1)));
  });

  it('assigns every vector id (1–256 characters) the published variant', async () => {
    let checked = 0;
    for (const v of BUCKETING_VECTORS) {
      const unitId = rawUnitId(v);
      if (unitId.length < 1 || unitId.length > 256) {
        // Outside the API's unit id limits (empty, 1 KB): refused, not mis-assigned.
        expect((await http('POST', '/v1/assign', { body: { unitId } })).status).toBe(400);
        continue;
      }
      const key = keyOf(groups.findIndex((g) => g.layerSalt === v.layerSalt && g.experimentSalt === v.experimentSalt));
      const res = await http('POST', '/v1/assign', { body: { unitId, experiments: [key] } });
      expect(res.status).toBe(200);
      expect({ note: v.note, variant: res.body.assignments[0]?.variant }).toEqual({ note: v.note, variant: v.variant });
      checked++;
    }
    expect(checked).toBe(36); // 48 vectors minus the empty and the two 1 KB ids of each of the 4 groups
  });

  it('explains vector ids with the published bucket and draw', async () => {
    const v = BUCKETING_VECTORS.find((x) => x.note === 'CJK (3-byte UTF-8)' && x.layerSalt === 'homepage')!;
    const key = keyOf(groups.findIndex((g) => g.layerSalt === 'homepage'));
    const res = await http('GET', `/v1/explain?unitId=${encodeURIComponent(v.unitId)}&experiment=${key}`, { key: TEST_ADMIN_KEY });
    expect(res.body).toMatchObject({ outcome: 'bucketed', bucket: v.bucket, u: v.u, assignment: { variant: v.variant } });
  });
});

describe('explain', () => {
  const explainOf = async (unitId: string, experiment: string, attributes?: unknown) =>
    (await http('GET', `/v1/explain?unitId=${encodeURIComponent(unitId)}&experiment=${experiment}${attributes ? `&attributes=${encodeURIComponent(JSON.stringify(attributes))}` : ''}`, { key: TEST_ADMIN_KEY })).body;

  it('says which experiment holds the bucket, when no one does, when targeting fails and which variant the draw gives', async () => {
    const { snapshot } = await servedSnapshot();
    const compiled = compileSnapshot(snapshot);
    const inB = ids.find((id) => evaluate(compiled, id).some((a) => a.experiment === 'exp-b'))!;
    const inA = ids.find((id) => evaluate(compiled, id).some((a) => a.experiment === 'exp-a'))!;
    const free = ids.find((id) => !evaluate(compiled, id).some((a) => a.layer === 'web'))!;

    const heldByOther = await explainOf(inB, 'exp-a');
    expect(heldByOther).toMatchObject({ outcome: 'bucket_held_by_other', heldBy: 'exp-b', assignment: null });
    expect(heldByOther.message).toContain('held by experiment "exp-b"');
    expect(await explainOf(free, 'exp-a')).toMatchObject({ outcome: 'bucket_not_held', assignment: null });
    const bucketed = await explainOf(inA, 'exp-a');
    expect(bucketed).toMatchObject({ outcome: 'bucketed', experiment: 'exp-a', layer: 'web' });
    expect(bucketed.u).toBeGreaterThanOrEqual(0);
    expect(bucketed.message).toMatch(/u=0\.\d{4} → "(control|treatment)"/);
    const assigned = (await http('POST', '/v1/assign', { body: { unitId: inA, experiments: ['exp-a'] } })).body.assignments[0];
    expect(bucketed.assignment).toEqual(assigned);

    const failed = await explainOf('someone', 'exp-c', { country: 'US' });
    expect(failed).toMatchObject({ outcome: 'targeting_failed', assignment: null, targeting: { actual: 'US' } });
    expect((await explainOf('someone', 'exp-draft')).outcome).toBe('unknown_experiment');
  });
});

describe('configuration changes', () => {
  let t2: TestApp;
  let base2: string;

  beforeAll(async () => {
    t2 = await createTestApp({}, { databaseUrl: t.databaseUrl });
    base2 = await t2.listen();
  });
  afterAll(async () => {
    await t2?.close();
  });

  /** Milliseconds until both instances serve a snapshot satisfying `check`. */
  async function convergence(check: (s: ConfigSnapshot) => boolean): Promise<number> {
    const [a, b] = await Promise.all([
      within(2000, async () => check((await servedSnapshot()).snapshot)),
      within(2000, async () => check((await servedSnapshot(base2)).snapshot)),
    ]);
    return Math.max(a, b);
  }

  it('serves the same snapshot and ETag from a second API process on the same database', async () => {
    const [one, two] = await Promise.all([servedSnapshot(), servedSnapshot(base2)]);
    expect(two.etag).toBe(one.etag);
    expect(two.snapshot.experiments).toEqual(one.snapshot.experiments);
  });

  it('makes a ramp visible to assignment on both processes within 2 s', async () => {
    const before = compileSnapshot((await servedSnapshot()).snapshot);
    await admin('POST', '/v1/experiments/exp-a/ramp', { traffic: 40 });
    const ms = await convergence((s) => s.experiments.find((e) => e.key === 'exp-a')!.ranges.reduce((n, r) => n + r.end - r.start, 0) === 4000);
    expect(ms).toBeLessThan(2000);
    const after = compileSnapshot((await servedSnapshot(base2)).snapshot);
    // A unit that was outside exp-a and is now inside, asked on the second process.
    const newcomer = ids.find((id) => !evaluate(before, id).some((a) => a.experiment === 'exp-a') && evaluate(after, id).some((a) => a.experiment === 'exp-a'))!;
    expect(newcomer).toBeDefined();
    const res = await http('POST', '/v1/assign', { body: { unitId: newcomer }, base: base2 });
    expect(res.body.assignments.map((a: Assignment) => a.experiment)).toContain('exp-a');
    // Ramping up keeps everyone already in exp-a in the same variant.
    const moved = ids.filter((id) => {
      const was = evaluate(before, id).find((a) => a.experiment === 'exp-a');
      return was !== undefined && evaluate(after, id).find((a) => a.experiment === 'exp-a')?.variant !== was.variant;
    });
    expect(moved).toEqual([]);
  });

  it('assigns nobody to a stopped experiment, on either process, within 2 s', async () => {
    await admin('POST', '/v1/experiments/exp-b/stop', { reason: 'done' });
    expect(await convergence((s) => !s.experiments.some((e) => e.key === 'exp-b'))).toBeLessThan(2000);
    for (const base of [baseUrl, base2]) {
      const all = await assignAll(base);
      expect([...all.values()].flat().filter((a) => a.experiment === 'exp-b')).toEqual([]);
    }
  });

  it('gives everyone in targeting the shipped winner and logs no exposure for it', async () => {
    await admin('POST', '/v1/experiments/exp-c/ship', { variant: 'treatment' });
    expect(await convergence((s) => s.experiments.find((e) => e.key === 'exp-c')?.status === 'shipped')).toBeLessThan(2000);
    const units = ids.slice(0, 1000).map((unitId, i) => ({ unitId, attributes: attributesOf(i) }));
    const before = await storedExposures();
    const res = await http('POST', '/v1/assign/batch', { body: { units, experiments: ['exp-c'], logExposures: true } });
    res.body.results.forEach((r: any, i: number) => {
      if (i % 2 === 0) expect(r.assignments).toEqual([{ experiment: 'exp-c', variant: 'treatment', layer: 'search', reason: 'shipped' }]);
      else expect(r.assignments).toEqual([]);
    });
    expect(await storedExposures()).toBe(before);
  });

  it('logs one exposure per bucketed assignment when asked, and none otherwise', async () => {
    const { snapshot } = await servedSnapshot();
    const compiled = compileSnapshot(snapshot);
    const inA = ids.filter((id) => evaluate(compiled, id).some((a) => a.experiment === 'exp-a')).slice(0, 20);
    const before = await storedExposures();
    await http('POST', '/v1/assign', { body: { unitId: inA[0], attributes: { country: 'DE' } } });
    expect(await storedExposures()).toBe(before);
    const single = await http('POST', '/v1/assign', { body: { unitId: inA[0], attributes: { country: 'DE' }, logExposures: true } });
    const bucketed = single.body.assignments.filter((a: Assignment) => a.reason === 'bucketed');
    expect(await storedExposures()).toBe(before + bucketed.length);
    const rows = await t.dataSource.query(`SELECT experiment_key, variant_key, attributes, ts, api_key_id FROM events WHERE type = 'exposure' AND unit_id = $1 ORDER BY experiment_key`, [inA[0]]);
    expect(rows.map((r: any) => ({ experiment: r.experiment_key, variant: r.variant_key }))).toEqual(
      bucketed.map((a: Assignment) => ({ experiment: a.experiment, variant: a.variant })).sort((x: any, y: any) => (x.experiment < y.experiment ? -1 : 1)),
    );
    expect(rows[0].attributes).toEqual({ country: 'DE' });
    expect(new Date(rows[0].ts).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const keyIds = await t.dataSource.query(`SELECT id FROM api_keys WHERE type = 'sdk-server'`);
    expect(rows[0].api_key_id).toBe(keyIds[0].id);
    const batch = await http('POST', '/v1/assign/batch', { body: { units: inA.map((unitId) => ({ unitId })), experiments: ['exp-a'], logExposures: true } });
    expect(batch.body.results.every((r: any) => r.assignments.length === 1)).toBe(true);
    expect(await storedExposures()).toBe(before + bucketed.length + inA.length);
  });

  it('honours forced variants over buckets, logs no exposure for them, and drops them from the snapshot when they expire', async () => {
    const { snapshot } = await servedSnapshot();
    const compiled = compileSnapshot(snapshot);
    // A unit whose web bucket is free: forced into exp-a anyway.
    const outside = ids.find((id) => !evaluate(compiled, id).some((a) => a.layer === 'web'))!;
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    await admin('PATCH', '/v1/experiments/exp-a', { forcedVariants: [{ unitId: outside, variant: 'treatment', expiresAt }, { unitId: 'vip', variant: 'control' }] });
    expect(await convergence((s) => s.experiments.find((e) => e.key === 'exp-a')!.forcedVariants.length === 2)).toBeLessThan(2000);
    const before = await storedExposures();
    const res = await http('POST', '/v1/assign', { body: { unitId: outside, experiments: ['exp-a'], logExposures: true }, base: base2 });
    expect(res.body.assignments).toEqual([{ experiment: 'exp-a', variant: 'treatment', layer: 'web', reason: 'forced' }]);
    expect((await http('POST', '/v1/assign', { body: { unitId: 'vip' } })).body.assignments).toContainEqual({ experiment: 'exp-a', variant: 'control', layer: 'web', reason: 'forced' });
    expect(await storedExposures()).toBe(before);
    const explained = (await http('GET', `/v1/explain?unitId=${outside}&experiment=exp-a`, { key: TEST_ADMIN_KEY })).body;
    expect(explained).toMatchObject({ outcome: 'forced', forcedExpiresAt: expiresAt });

    // The expiry timer rebuilds the snapshot (new ETag) without any configuration change.
    const etag = (await servedSnapshot()).etag;
    await within(5000, async () => (await servedSnapshot()).snapshot.experiments.find((e) => e.key === 'exp-a')!.forcedVariants.length === 1);
    expect((await servedSnapshot()).etag).not.toBe(etag);
    expect((await http('POST', '/v1/assign', { body: { unitId: outside, experiments: ['exp-a'] } })).body.assignments).toEqual([]);
  });
});
