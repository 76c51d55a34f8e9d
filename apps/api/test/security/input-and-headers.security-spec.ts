import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@strata/test-support/api';

/*
 * Oversized and poisoned input, and the security headers:
 * - targeting nested 7,000 deep overflowed the recursive schema's stack (500): now a 400;
 * - one event with a `__proto__` key made the whole batch malformed JSON: now that event alone is rejected;
 * - no security headers: now helmet's (CSP, frame-ancestors, nosniff, Referrer-Policy) on Fastify's
 *   routes and the same ones on the fast route (POST /v1/assign).
 */
let api: ApiProcess;
let sdkKey: string;

beforeAll(async () => {
  api = await startApiProcess();
  expect((await api.request('POST', '/v1/layers', { body: { key: 'input', name: 'Input' } })).status).toBe(201);
  expect((await api.request('POST', '/v1/metrics', { body: { key: 'buy', name: 'Buy', type: 'conversion', eventName: 'buy' } })).status).toBe(201);
  sdkKey = await api.sdkKey('sdk-server');
}, 180_000);

afterAll(async () => api?.close());

const experiment = (targeting: unknown) => ({
  key: 'deep',
  name: 'Deep',
  layer: 'input',
  variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }],
  targeting,
});

it('refuses targeting nested 7,000 deep, or 15,000 rules wide, with a 400', async () => {
  // Written as text: JSON.stringify itself recurses too deep for 7,000 levels.
  const deep = `${'{"match":"all","rules":['.repeat(7000)}{"attribute":"x","operator":"eq","value":1}${']}'.repeat(7000)}`;
  const body = JSON.stringify(experiment(null)).replace('"targeting":null', `"targeting":${deep}`);
  const res = await api.request('POST', '/v1/experiments', { raw: body });
  expect(res.status, res.text).toBe(400);
  expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: 'targeting', message: expect.stringMatching(/at most 5 levels/) })] });
  const wide = { match: 'any', rules: Array.from({ length: 15_000 }, () => ({ attribute: 'x', operator: 'eq', value: 1 })) };
  const wideRes = await api.request('POST', '/v1/experiments', { body: experiment(wide) });
  expect(wideRes.status).toBe(400);
  // The server is fine afterwards.
  expect((await api.request('GET', '/health', { key: null })).status).toBe(200);
});

it('rejects only the event with a __proto__ key, with its reason, and stores the others', async () => {
  const ok = () => JSON.stringify({ id: randomUUID(), type: 'metric', unitId: 'u1', name: 'buy', value: 1 });
  const raw = `{"events":[${ok()},{"id":"${randomUUID()}","type":"metric","unitId":"u2","name":"buy","__proto__":{"admin":true}},${ok()},{"id":"${randomUUID()}","type":"metric","unitId":"u3","name":"buy","attributes":{"__proto__":{"admin":true}}}]}`;
  const res = await fetch(`${api.baseUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
    body: raw,
  });
  const body = (await res.json()) as { accepted: number; rejected: { index: number; code: string; message: string }[] };
  expect(res.status, JSON.stringify(body)).toBe(202);
  expect(body.accepted).toBe(2);
  expect(body.rejected).toEqual([
    { index: 1, code: 'invalid_event', message: expect.stringMatching(/^event: a "__proto__" key is not allowed/) },
    { index: 3, code: 'invalid_event', message: expect.stringMatching(/^attributes: a "__proto__" key is not allowed/) },
  ]);
  // Elsewhere a __proto__ key is still refused whole, as malformed JSON.
  const layer = await fetch(`${api.baseUrl}/v1/layers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.adminKey}`, 'content-type': 'application/json' },
    body: '{"key":"p","name":"p","__proto__":{"admin":true}}',
  });
  expect(layer.status).toBe(400);
});

const SECURITY = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-frame-options', 'strict-transport-security', 'cross-origin-opener-policy'];

function security(headers: Headers): Record<string, string | null> {
  return Object.fromEntries(SECURITY.map((h) => [h, headers.get(h)]));
}

it('sends the security headers on Fastify routes, errors and the fast route alike', async () => {
  const health = await api.request('GET', '/health', { key: null });
  const csp = health.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(health.headers.get('x-content-type-options')).toBe('nosniff');
  expect(health.headers.get('referrer-policy')).toBe('no-referrer');
  const expected = security(health.headers);
  const responses = [
    await api.request('GET', '/v1/layers'),
    await api.request('GET', '/v1/layers', { key: null }), // 401
    await api.request('GET', '/v1/nope'), // 404
    await api.request('POST', '/v1/assign', { key: sdkKey, body: { unitId: 'u1' } }), // fast route
    await api.request('POST', '/v1/assign', { key: null, body: { unitId: 'u1' } }), // fast route, 401
  ];
  expect(responses.map((r) => r.status)).toEqual([200, 401, 404, 200, 401]);
  for (const r of responses) expect(security(r.headers)).toEqual(expected);
});
