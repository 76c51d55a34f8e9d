import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let sdkKey: string;

beforeAll(async () => {
  t = await createTestApp();
  const created = await t.admin('POST', '/v1/api-keys', { name: 'web sdk', type: 'sdk-client' });
  sdkKey = created.body.secret;
});
afterAll(async () => {
  await t?.close();
});

function expectErrorShape(res: { status: number; body: any }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(Array.isArray(res.body.error.details)).toBe(true);
}

const experimentBody = (key: string, layer: string, traffic = 50) => ({
  key,
  name: `Experiment ${key}`,
  layer,
  variants: [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ],
  traffic,
});

describe('health and errors', () => {
  it('reports the database as up', async () => {
    const res = await t.request('GET', '/health', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', db: 'up', config: { behind: false, lastError: null } });
    expect(res.body.config.version).toBeGreaterThanOrEqual(0);
  });

  it('answers unknown routes with a JSON 404 and echoes the request id', async () => {
    const res = await t.request('GET', '/v1/nothing-here', { headers: { 'x-request-id': 'req-abc-123' } });
    expectErrorShape(res, 404, 'route_not_found');
    expect(res.headers['x-request-id']).toBe('req-abc-123');
    expect(res.body.error.requestId).toBe('req-abc-123');
  });

  it('rejects malformed JSON with 400 and oversized bodies with 413', async () => {
    const bad = await t.request('POST', '/v1/layers', { raw: '{"key":', headers: { 'content-type': 'application/json' } });
    expectErrorShape(bad, 400, 'malformed_json');
    const big = await t.request('POST', '/v1/layers', { raw: JSON.stringify({ key: 'x', name: 'y'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    expectErrorShape(big, 413, 'payload_too_large');
  });

  it('serves the OpenAPI document', async () => {
    const res = await t.request('GET', '/docs/json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toContain('/v1/experiments/{key}/start');
    // The plain Fastify hot path is documented too, from the same zod schema.
    expect(res.body.paths['/v1/assign'].post.requestBody.content['application/json'].schema.required).toEqual(['unitId']);
  });
});

describe('authentication', () => {
  it('needs a key (401), refuses a wrong one (401) and an SDK key on management routes (403)', async () => {
    expectErrorShape(await t.request('GET', '/v1/layers', { key: null }), 401, 'unauthorized');
    expectErrorShape(await t.request('GET', '/v1/layers', { key: 'sk_admin_not-a-real-key' }), 401, 'unauthorized');
    expectErrorShape(await t.request('GET', '/v1/layers', { key: sdkKey }), 403, 'forbidden');
  });

  it('shows a new secret once, stores only a prefix, and stops accepting it when revoked', async () => {
    const created = await t.admin('POST', '/v1/api-keys', { name: 'ops', type: 'admin' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^sk_admin_/);
    const list = await t.admin('GET', '/v1/api-keys');
    const listed = list.body.items.find((k: any) => k.id === created.body.id);
    expect(listed.secret).toBeUndefined();
    expect(created.body.secret.startsWith(listed.prefix)).toBe(true);
    const row = await t.dataSource.query('SELECT secret_hash FROM api_keys WHERE id = $1', [created.body.id]);
    expect(row[0].secret_hash).not.toContain(created.body.secret);
    expect((await t.request('GET', '/v1/layers', { key: created.body.secret })).status).toBe(200);
    const revoked = await t.admin('POST', `/v1/api-keys/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expectErrorShape(await t.request('GET', '/v1/layers', { key: created.body.secret }), 401, 'unauthorized');
    expectErrorShape(await t.admin('POST', `/v1/api-keys/${created.body.id}/revoke`), 409, 'conflict');
  });

  it('validates API key requests', async () => {
    const res = await t.admin('POST', '/v1/api-keys', { name: '', type: 'superuser' });
    expectErrorShape(res, 400, 'validation_failed');
    expect(res.body.error.details.map((d: any) => d.path).sort()).toEqual(['name', 'type']);
    expectErrorShape(await t.admin('POST', '/v1/api-keys/not-a-uuid/revoke'), 400, 'validation_failed');
    expectErrorShape(await t.admin('POST', '/v1/api-keys/00000000-0000-4000-8000-000000000000/revoke'), 404, 'not_found');
  });
});

describe('layers', () => {
  it('creates, reads, updates, lists and deletes a layer, defaulting the salt to the key', async () => {
    const created = await t.admin('POST', '/v1/layers', { key: 'crud-layer', name: 'CRUD', description: 'for tests' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: 'crud-layer', salt: 'crud-layer', buckets: 10000, freeBuckets: 10000, allocations: [] });
    expect((await t.admin('GET', '/v1/layers/crud-layer')).body.name).toBe('CRUD');
    const updated = await t.admin('PATCH', '/v1/layers/crud-layer', { name: 'Renamed' });
    expect(updated.body.name).toBe('Renamed');
    const list = await t.admin('GET', '/v1/layers?limit=500');
    expect(list.body.items.map((l: any) => l.key)).toContain('crud-layer');
    expect((await t.admin('DELETE', '/v1/layers/crud-layer')).status).toBe(204);
    expectErrorShape(await t.admin('GET', '/v1/layers/crud-layer'), 404, 'not_found');
  });

  it('rejects bad layer input with the failing field paths', async () => {
    const res = await t.admin('POST', '/v1/layers', { key: 'Not URL Safe!', name: 42, extra: true });
    expectErrorShape(res, 400, 'validation_failed');
    const paths = res.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['key', 'name']));
    await t.admin('POST', '/v1/layers', { key: 'dupe', name: 'Dupe' });
    expectErrorShape(await t.admin('POST', '/v1/layers', { key: 'dupe', name: 'Dupe' }), 409, 'already_exists');
    expectErrorShape(await t.admin('GET', '/v1/layers?limit=0'), 400, 'validation_failed');
    expectErrorShape(await t.admin('GET', '/v1/layers?limit=abc'), 400, 'validation_failed');
  });
});

describe('metrics', () => {
  it('creates every metric type and validates ratio denominators', async () => {
    for (const type of ['conversion', 'count', 'mean'] as const) {
      const res = await t.admin('POST', '/v1/metrics', { key: `m-${type}`, name: type, type, eventName: 'purchase' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ type, direction: 'increase', cupedLookbackDays: 14, denominatorEventName: null });
    }
    const ratio = await t.admin('POST', '/v1/metrics', { key: 'aov', name: 'Order value per session', type: 'ratio', eventName: 'revenue', denominatorEventName: 'session' });
    expect(ratio.status).toBe(201);
    const noDenominator = await t.admin('POST', '/v1/metrics', { key: 'bad-ratio', name: 'x', type: 'ratio', eventName: 'revenue' });
    expectErrorShape(noDenominator, 400, 'validation_failed');
    expect(noDenominator.body.error.details[0].path).toBe('denominatorEventName');
    const guard = await t.admin('POST', '/v1/metrics', { key: 'latency', name: 'Latency', type: 'mean', eventName: 'page_load_ms', direction: 'decrease', harmThreshold: 0.05, winsorizePercentile: 0.99 });
    expect(guard.body).toMatchObject({ harmThreshold: 0.05, winsorizePercentile: 0.99, direction: 'decrease' });
    const patched = await t.admin('PATCH', '/v1/metrics/latency', { harmThreshold: 0.1 });
    expect(patched.body.harmThreshold).toBe(0.1);
    expectErrorShape(await t.admin('PATCH', '/v1/metrics/latency', { type: 'count' }), 400, 'validation_failed');
    expect((await t.admin('DELETE', '/v1/metrics/m-count')).status).toBe(204);
  });
});

describe('experiments', () => {
  beforeAll(async () => {
    await t.admin('POST', '/v1/layers', { key: 'checkout', name: 'Checkout' });
    await t.admin('POST', '/v1/layers', { key: 'search', name: 'Search' });
    await t.admin('POST', '/v1/metrics', { key: 'purchase', name: 'Purchase', type: 'conversion', eventName: 'purchase' });
  });

  it('creates a draft with defaults and validates variants, weights, traffic and targeting', async () => {
    const res = await t.admin('POST', '/v1/experiments', {
      ...experimentBody('exp-draft', 'checkout', 12.34),
      primaryMetric: 'purchase',
      targeting: { match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['DE', 'FR'] }, { match: 'any', rules: [{ attribute: 'age', operator: 'gte', value: 18 }] }] },
      forcedVariants: [{ unitId: 'qa-user', variant: 'treatment' }],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'draft', traffic: 12.34, salt: 'exp-draft', ranges: [], autoStop: false });

    const bad = await t.admin('POST', '/v1/experiments', {
      key: 'exp-bad',
      name: 'Bad',
      layer: 'checkout',
      variants: [{ key: 'control', weight: 0.6 }, { key: 'control', weight: 0.6 }],
      traffic: 12.345,
      targeting: { attribute: 'x', operator: 'regex', value: '(' },
    });
    expectErrorShape(bad, 400, 'validation_failed');
    const paths = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['variants', 'variants.1.key', 'traffic']));
    expect(paths.some((p: string) => p.startsWith('targeting'))).toBe(true);

    const oneVariant = await t.admin('POST', '/v1/experiments', { ...experimentBody('exp-one', 'checkout'), variants: [{ key: 'only', weight: 1 }] });
    expectErrorShape(oneVariant, 400, 'validation_failed');
    const unknownRefs = await t.admin('POST', '/v1/experiments', { ...experimentBody('exp-refs', 'no-such-layer'), primaryMetric: 'no-such-metric' });
    expectErrorShape(unknownRefs, 400, 'validation_failed');
    expect(unknownRefs.body.error.details.map((d: any) => d.path).sort()).toEqual(['layer', 'primaryMetric']);
    const badForced = await t.admin('POST', '/v1/experiments', { ...experimentBody('exp-forced', 'checkout'), forcedVariants: [{ unitId: 'u', variant: 'nope' }] });
    expectErrorShape(badForced, 400, 'validation_failed');
    expect(badForced.body.error.details[0].path).toBe('forcedVariants.0.variant');

    // Patterns are RE2 (linear time): nested quantifiers are fine, constructs that need backtracking are refused by name.
    for (const [pattern, construct] of [
      ['(a)\\1', 'backreferences'],
      ['^(?=.*@)x', 'lookahead'],
      ['(?<!x)y', 'lookbehind'],
    ]) {
      const refused = await t.admin('POST', '/v1/experiments', { ...experimentBody('exp-re2', 'checkout'), targeting: { attribute: 'email', operator: 'regex', value: pattern } });
      expectErrorShape(refused, 400, 'validation_failed');
      expect(refused.body.error.details[0], pattern).toMatchObject({ path: 'targeting.value', message: expect.stringContaining(construct) });
    }
    for (const [i, pattern] of ['^([a-z]+)+@x\\.com$', '(a*)*b', '^(\\w+\\s?)*$'].entries()) {
      const linear = await t.admin('POST', '/v1/experiments', { ...experimentBody(`exp-nested-${i}`, 'checkout'), targeting: { attribute: 'email', operator: 'regex', value: pattern } });
      expect(linear.status, pattern).toBe(201);
    }
    const fine = await t.admin('POST', '/v1/experiments', {
      ...experimentBody('exp-regex-ok', 'checkout'),
      targeting: { attribute: 'email', operator: 'regex', value: '^[a-z0-9._%+-]+@(example|strata)\\.com$' },
    });
    expect(fine.status, JSON.stringify(fine.body)).toBe(201);
  });

  it('walks the lifecycle and refuses invalid transitions with 409', async () => {
    await t.admin('POST', '/v1/experiments', experimentBody('exp-life', 'search', 10));
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-life/stop'), 409, 'invalid_transition');
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-life/ship', { variant: 'treatment' }), 409, 'invalid_transition');
    const started = await t.admin('POST', '/v1/experiments/exp-life/start');
    expect(started.status).toBe(200);
    expect(started.body.status).toBe('running');
    expect(started.body.ranges.reduce((n: number, r: any) => n + r.end - r.start, 0)).toBe(1000);
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-life/start'), 409, 'invalid_transition');
    expectErrorShape(await t.admin('DELETE', '/v1/experiments/exp-life'), 409, 'invalid_transition');
    const stopped = await t.admin('POST', '/v1/experiments/exp-life/stop', { reason: 'done' });
    expect(stopped.body).toMatchObject({ status: 'stopped', stopReason: 'done', ranges: [] });
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-life/start'), 409, 'invalid_transition');
    // A stopped experiment still receives late exposures (7 days), validated against its salt:
    // a new salt could only make the collector reject correct ones. Draft only.
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-life/rerandomize', {}), 409, 'invalid_transition');
    await t.admin('POST', '/v1/experiments', experimentBody('exp-draft-salt', 'search', 10));
    const resalted = await t.admin('POST', '/v1/experiments/exp-draft-salt/rerandomize', { salt: 'fresh-salt' });
    expect([resalted.status, resalted.body.salt]).toEqual([200, 'fresh-salt']);

    await t.admin('POST', '/v1/experiments', experimentBody('exp-ship', 'search', 10));
    await t.admin('POST', '/v1/experiments/exp-ship/start');
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-ship/ship', { variant: 'nope' }), 400, 'validation_failed');
    const shipped = await t.admin('POST', '/v1/experiments/exp-ship/ship', { variant: 'treatment' });
    expect(shipped.body).toMatchObject({ status: 'shipped', shippedVariant: 'treatment', ranges: [] });
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-ship/stop'), 409, 'invalid_transition');
    expectErrorShape(await t.admin('POST', '/v1/experiments/exp-ship/rerandomize', {}), 409, 'invalid_transition');
  });

  it('ramping back up re-admits the units a ramp down let go, and avoids buckets another experiment just released', async () => {
    await t.admin('POST', '/v1/layers', { key: 'carry', name: 'Carry-over' });
    await t.admin('POST', '/v1/experiments', experimentBody('carry-a', 'carry', 30));
    await t.admin('POST', '/v1/experiments', experimentBody('carry-b', 'carry', 10));
    await t.admin('POST', '/v1/experiments', experimentBody('carry-c', 'carry', 10));
    const ranges = async (key: string) => (await t.admin('GET', `/v1/experiments/${key}`)).body.ranges;
    expect((await t.admin('POST', '/v1/experiments/carry-a/start')).body.ranges).toEqual([{ start: 0, end: 3000 }]);
    expect((await t.admin('POST', '/v1/experiments/carry-b/start')).body.ranges).toEqual([{ start: 3000, end: 4000 }]);
    expect((await t.admin('POST', '/v1/experiments/carry-a/ramp', { traffic: 50 })).status).toBe(200);
    expect(await ranges('carry-a')).toEqual([{ start: 0, end: 3000 }, { start: 4000, end: 6000 }]);
    expect((await t.admin('POST', '/v1/experiments/carry-b/stop', {})).status).toBe(200);
    expect((await t.admin('POST', '/v1/experiments/carry-a/ramp', { traffic: 40 })).status).toBe(200);
    expect(await ranges('carry-a')).toEqual([{ start: 0, end: 3000 }, { start: 4000, end: 5000 }]);
    // Back to 50 %: the same 1,000 buckets as before, not carry-b's (the smallest gap that fits).
    expect((await t.admin('POST', '/v1/experiments/carry-a/ramp', { traffic: 50 })).status).toBe(200);
    expect(await ranges('carry-a')).toEqual([{ start: 0, end: 3000 }, { start: 4000, end: 6000 }]);
    // A new experiment avoids carry-b's buckets while clean ones are free: carry-b's units may still show its effect.
    expect((await t.admin('POST', '/v1/experiments/carry-c/start')).body.ranges).toEqual([{ start: 6000, end: 7000 }]);
  });

  it('refuses a start that does not fit, naming the free capacity', async () => {
    await t.admin('POST', '/v1/layers', { key: 'tight', name: 'Tight' });
    await t.admin('POST', '/v1/experiments', experimentBody('tight-a', 'tight', 70));
    await t.admin('POST', '/v1/experiments', experimentBody('tight-b', 'tight', 40));
    expect((await t.admin('POST', '/v1/experiments/tight-a/start')).status).toBe(200);
    const conflict = await t.admin('POST', '/v1/experiments/tight-b/start');
    expectErrorShape(conflict, 409, 'insufficient_capacity');
    expect(conflict.body.error.message).toContain('3000 free buckets');
    expect(conflict.body.error.details[0]).toMatchObject({ freeBuckets: 3000, neededBuckets: 4000 });
    expect((await t.admin('GET', '/v1/experiments/tight-b')).body.status).toBe('draft');
    await t.admin('PATCH', '/v1/experiments/tight-b', { traffic: 30 });
    const b = await t.admin('POST', '/v1/experiments/tight-b/start');
    expect(b.status).toBe(200);
    const a = (await t.admin('GET', '/v1/experiments/tight-a')).body;
    // Exclusive: no bucket in both.
    const held = new Set<number>();
    for (const e of [a, b.body]) for (const r of e.ranges) for (let i = r.start; i < r.end; i++) {
      expect(held.has(i)).toBe(false);
      held.add(i);
    }
    expect(held.size).toBe(10000);
    expectErrorShape(await t.admin('POST', '/v1/experiments/tight-a/ramp', { traffic: 71 }), 409, 'insufficient_capacity');
    const layer = (await t.admin('GET', '/v1/layers/tight')).body;
    expect(layer.freeBuckets).toBe(0);
    expect(layer.allocations.map((x: any) => x.experiment).sort()).toEqual(['tight-a', 'tight-b']);
  });

  it('locks variants and weights while running but lets traffic ramp', async () => {
    await t.admin('POST', '/v1/layers', { key: 'ramp', name: 'Ramp' });
    await t.admin('POST', '/v1/experiments', experimentBody('ramp-a', 'ramp', 10));
    await t.admin('POST', '/v1/experiments/ramp-a/start');
    const locked = await t.admin('PATCH', '/v1/experiments/ramp-a', { variants: [{ key: 'control', weight: 0.3 }, { key: 'treatment', weight: 0.7 }] });
    expectErrorShape(locked, 409, 'locked_while_running');
    expect(locked.body.error.details[0].path).toBe('variants');
    expect(locked.body.error.message).toContain('while it is running');

    const before = (await t.admin('GET', '/v1/experiments/ramp-a')).body.ranges;
    const up = await t.admin('POST', '/v1/experiments/ramp-a/ramp', { traffic: 50 });
    expect(up.status).toBe(200);
    const inRanges = (ranges: any[], b: number) => ranges.some((r) => b >= r.start && b < r.end);
    for (const r of before) for (let b = r.start; b < r.end; b++) expect(inRanges(up.body.ranges, b)).toBe(true);
    expect(up.body.ranges.reduce((n: number, r: any) => n + r.end - r.start, 0)).toBe(5000);
    const full = await t.admin('PATCH', '/v1/experiments/ramp-a', { traffic: 100 });
    for (const r of up.body.ranges) for (let b = r.start; b < r.end; b++) expect(inRanges(full.body.ranges, b)).toBe(true);
    expect(full.body.traffic).toBe(100);

    // Ramping down releases the newest buckets: the first 10% stays held.
    const down = await t.admin('POST', '/v1/experiments/ramp-a/ramp', { traffic: 10 });
    expect(down.body.ranges).toEqual(before);
    const ledger = await t.admin('GET', '/v1/layers/ramp/ledger?limit=100');
    expect(ledger.body.items.some((row: any) => row.releasedAt !== null)).toBe(true);
    expect(ledger.body.items.every((row: any) => row.experiment === 'ramp-a')).toBe(true);
  });

  it('lists with paging and filters by status, layer and search', async () => {
    const running = await t.admin('GET', '/v1/experiments?status=running&limit=500');
    expect(running.body.items.length).toBeGreaterThan(0);
    expect(running.body.items.every((e: any) => e.status === 'running')).toBe(true);
    const layer = await t.admin('GET', '/v1/experiments?layer=tight');
    expect(layer.body.items.map((e: any) => e.key).sort()).toEqual(['tight-a', 'tight-b']);
    const search = await t.admin('GET', '/v1/experiments?search=TIGHT-A');
    expect(search.body.items.map((e: any) => e.key)).toEqual(['tight-a']);
    const page = await t.admin('GET', '/v1/experiments?limit=1&offset=1');
    expect(page.body.items).toHaveLength(1);
    expect(page.body.total).toBeGreaterThan(1);
    expectErrorShape(await t.admin('GET', '/v1/experiments?status=paused'), 400, 'validation_failed');
  });

  it('writes an audit entry with before and after for every change', async () => {
    const res = await t.admin('GET', '/v1/audit?entityType=experiment&entityKey=ramp-a&limit=50');
    expect(res.status).toBe(200);
    const actions = res.body.items.map((e: any) => e.action);
    expect(actions).toEqual(['experiment.ramp', 'experiment.update', 'experiment.ramp', 'experiment.start', 'experiment.create']);
    const start = res.body.items.find((e: any) => e.action === 'experiment.start');
    expect(start.before.status).toBe('draft');
    expect(start.after.status).toBe('running');
    expect(start.apiKeyId).toMatch(/[0-9a-f-]{36}/);
    const create = res.body.items.find((e: any) => e.action === 'experiment.create');
    expect(create.before).toBeNull();
    expect(create.after.key).toBe('ramp-a');
    expectErrorShape(await t.admin('GET', '/v1/audit?since=yesterday'), 400, 'validation_failed');
  });
});

describe('bad input never gets a 500', () => {
  const bodies: unknown[] = [null, [], 'text', 42, { key: null }, { key: 'a'.repeat(10_000), name: 'x' }, { variants: 'x' }, { key: 'k', name: 'n', layer: 'checkout', variants: [{ key: 'a', weight: 'half' }] }];
  const routes = ['/v1/layers', '/v1/metrics', '/v1/experiments', '/v1/api-keys', '/v1/experiments/exp-draft/ramp', '/v1/experiments/exp-draft/ship'];
  it('answers every malformed body on every route with a 4xx in the error shape', async () => {
    for (const route of routes) {
      for (const body of bodies) {
        const res = await t.request('POST', route, { raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        expect(res.status, `${route} ${JSON.stringify(body).slice(0, 40)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${route} ${JSON.stringify(body).slice(0, 40)}`).toBeLessThan(500);
        expect(res.body.error.code).toBeTypeOf('string');
      }
    }
  });
});

describe('requests refused before routing', () => {
  /**
   * Sends raw bytes and returns what comes back before the server closes the socket. `halfClose`
   * ends our side at once (fine for refusals); a request the server must answer asynchronously
   * needs the socket kept open until the answer's Connection: close.
   */
  const raw = (base: string, bytes: string, halfClose = true): Promise<string> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(base);
      const socket = connect(Number(port), hostname, () => (halfClose ? socket.end(bytes) : socket.write(bytes)));
      let out = '';
      socket.on('data', (d) => (out += d.toString()));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
  const parse = (response: string) => {
    const [head, body] = response.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), head: head.toLowerCase(), body: JSON.parse(body) };
  };

  it('answers an undecodable path and an over-long path parameter in the error shape', async () => {
    const badUrl = await t.admin('GET', '/v1/experiments/%ff/results');
    expectErrorShape(badUrl, 400, 'bad_request');
    expect(badUrl.body.error.requestId).toBe(badUrl.headers['x-request-id']);
    const longParam = await t.admin('GET', `/v1/experiments/${'k'.repeat(600)}/results`);
    expectErrorShape(longParam, 414, 'uri_too_long');
  });

  it('answers what the HTTP parser refuses (bad request line, headers too large) in the error shape and closes', async () => {
    const base = t.baseUrl ?? (await t.listen());
    const malformed = parse(await raw(base, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'));
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'bad_request']);
    expect(malformed.head).toContain('connection: close');
    const huge = parse(await raw(base, `GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`));
    expect([huge.status, huge.body.error.code]).toEqual([431, 'headers_too_large']);
  });

  it('answers what Node itself refuses (HTTP/1.1 without Host, an unsupported Expect) in the error shape and closes', async () => {
    const base = t.baseUrl ?? (await t.listen());
    const noHost = parse(await raw(base, 'GET /health HTTP/1.1\r\n\r\n'));
    expect([noHost.status, noHost.body.error.code]).toEqual([400, 'bad_request']);
    expect(noHost.body.error.message).toContain('Host');
    expect(noHost.head).toContain('connection: close');
    const noHostFast = parse(await raw(base, 'POST /v1/assign HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'));
    expect([noHostFast.status, noHostFast.body.error.code]).toEqual([400, 'bad_request']);
    const expectation = parse(await raw(base, 'POST /v1/events HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 2\r\n\r\n{}'));
    expect([expectation.status, expectation.body.error.code]).toEqual([417, 'expectation_failed']);
    expect(expectation.head).toContain('connection: close');
    // HTTP/1.0 has no Host requirement, and 100-continue still works.
    const old = await raw(base, 'GET /health HTTP/1.0\r\n\r\n', false);
    expect(old.split(' ')[1]).toBe('200');
    const cont = await raw(base, 'GET /health HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', false);
    expect(cont).toContain('HTTP/1.1 100 Continue');
    expect(cont).toContain('HTTP/1.1 200 OK');
  });
});

describe('text PostgreSQL cannot store', () => {
  // NUL cannot be stored in text and an unpaired surrogate not in jsonb (the audit log): each used to fail its INSERT as a 500.
  const bad = ['a\u0000b', '\ud800', 'x\udc00y'];
  const cases: [string, string, (s: string) => unknown, string][] = [
    ['POST', '/v1/api-keys', (s) => ({ name: s, type: 'sdk-server' }), 'name'],
    ['POST', '/v1/layers', (s) => ({ key: 'text-l1', name: s }), 'name'],
    ['POST', '/v1/layers', (s) => ({ key: 'text-l2', name: 'ok', description: s }), 'description'],
    ['POST', '/v1/layers', (s) => ({ key: 'text-l3', name: 'ok', salt: s }), 'salt'],
    ['PATCH', '/v1/layers/text-layer', (s) => ({ name: s }), 'name'],
    ['POST', '/v1/layers/text-layer/rerandomize', (s) => ({ salt: s }), 'salt'],
    ['POST', '/v1/metrics', (s) => ({ key: 'text-m1', name: s, type: 'count', eventName: 'e' }), 'name'],
    ['POST', '/v1/metrics', (s) => ({ key: 'text-m2', name: 'ok', type: 'count', eventName: s }), 'eventName'],
    ['POST', '/v1/metrics', (s) => ({ key: 'text-m3', name: 'ok', type: 'ratio', eventName: 'e', denominatorEventName: s }), 'denominatorEventName'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e1', 'text-layer'), name: s }), 'name'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e2', 'text-layer'), hypothesis: s }), 'hypothesis'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e3', 'text-layer'), salt: s }), 'salt'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e4', 'text-layer'), variants: [{ key: 'control', weight: 0.5, name: s }, { key: 'treatment', weight: 0.5 }] }), 'variants.0.name'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e5', 'text-layer'), targeting: { attribute: s, operator: 'eq', value: 'x' } }), 'targeting.attribute'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e6', 'text-layer'), targeting: { attribute: 'country', operator: 'eq', value: s } }), 'targeting.value'],
    ['POST', '/v1/experiments', (s) => ({ ...experimentBody('text-e7', 'text-layer'), forcedVariants: [{ unitId: s, variant: 'control' }] }), 'forcedVariants.0.unitId'],
  ];

  it('answers 400 naming the field for NUL or an unpaired surrogate in any stored text, and stores nothing', async () => {
    expect((await t.admin('POST', '/v1/layers', { key: 'text-layer', name: 'Text' })).status).toBe(201);
    const auditBefore = (await t.admin('GET', '/v1/audit?limit=1')).body.total;
    for (const [method, url, body, path] of cases) {
      for (const s of bad) {
        const res = await t.admin(method, url, body(s));
        const what = `${method} ${url} ${path} ${JSON.stringify(s)}`;
        expect(res.status, what).toBe(400);
        expect(res.body.error.code, what).toBe('validation_failed');
        expect(res.body.error.details.map((d: { path: string }) => d.path), what).toContain(path);
      }
    }
    expect((await t.admin('GET', '/v1/audit?limit=1')).body.total).toBe(auditBefore);
  });

  it('refuses NUL in an assigned unit id (its exposure could not be stored) but keeps unpaired surrogates (the bucketing spec hashes them)', async () => {
    const nul = await t.request('POST', '/v1/assign', { key: sdkKey, body: { unitId: 'a\u0000b', logExposures: true } });
    expect([nul.status, nul.body.error.code, nul.body.error.details[0].path]).toEqual([400, 'validation_failed', 'unitId']);
    expect((await t.request('POST', '/v1/assign', { key: sdkKey, body: { unitId: 'a\ud800b' } })).status).toBe(200);
    // ... but not logged: stored as text they would become U+FFFD, merging distinct units.
    const logged = await t.request('POST', '/v1/assign', { key: sdkKey, body: { unitId: 'a\ud800b', logExposures: true } });
    expect([logged.status, logged.body.error.details[0].path]).toEqual([400, 'unitId']);
    expect(logged.body.error.message).toContain('logExposures');
    const batch = await t.request('POST', '/v1/assign/batch', { key: sdkKey, body: { units: [{ unitId: 'ok' }, { unitId: '\udc00' }], logExposures: true } });
    expect([batch.status, batch.body.error.details[0].path]).toEqual([400, 'units.1.unitId']);
    expect((await t.request('POST', '/v1/assign/batch', { key: sdkKey, body: { units: [{ unitId: 'ok' }, { unitId: '\udc00' }] } })).status).toBe(200);
  });

  it('answers 400 for such text in query filters', async () => {
    for (const url of ['/v1/experiments?search=%00', '/v1/audit?entityKey=%00', '/v1/audit?action=a%00b']) {
      const res = await t.admin('GET', url);
      expect([res.status, res.body.error?.code], url).toEqual([400, 'validation_failed']);
    }
  });
});

describe('no free database connection', () => {
  it('answers 503 with Retry-After (a retry, not a bug) when every pooled connection stays busy past the pool timeout', async () => {
    // Hold all 10 of the test app's pooled connections, as a burst of slow analysis queries would.
    const held = Array.from({ length: 10 }, () => t.dataSource.createQueryRunner());
    await Promise.all(held.map((r) => r.connect()));
    try {
      const res = await t.admin('GET', '/v1/experiments');
      expectErrorShape(res, 503, 'unavailable');
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      await Promise.all(held.map((r) => r.release()));
    }
    expect((await t.admin('GET', '/v1/experiments')).status).toBe(200);
  });
});
