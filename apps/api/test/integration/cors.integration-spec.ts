import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * Browser SDKs call the SDK routes from the app's own origin: preflights and responses need CORS
 * headers, on the fast route (real HTTP) and on Fastify's routes (inject) alike. The management
 * API stays same-origin.
 */
const PAGE = 'https://shop.example';

const preflight = (t: TestApp, url: string, origin = PAGE, method = 'POST') =>
  t.request('OPTIONS', url, {
    key: null,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  });

describe('CORS on the SDK routes, any origin (default)', () => {
  let t: TestApp;
  let clientKey: string;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp();
    clientKey = (await t.admin('POST', '/v1/api-keys', { name: 'web', type: 'sdk-client' })).body.secret;
    base = await t.listen();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers preflights of every SDK route with 204, without a key', async () => {
    for (const [url, method] of [
      ['/v1/sdk/config', 'GET'],
      ['/v1/assign', 'POST'],
      ['/v1/assign/batch', 'POST'],
      ['/v1/events', 'POST'],
    ] as const) {
      const res = await preflight(t, url, PAGE, method);
      expect(res.status, url).toBe(204);
      expect(res.headers['access-control-allow-origin'], url).toBe('*');
      expect(String(res.headers['access-control-allow-methods']).split(', '), url).toContain(method);
      expect(String(res.headers['access-control-allow-headers']).split(', '), url).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'if-none-match']),
      );
      expect(res.headers['access-control-max-age'], url).toBe('7200');
    }
  });

  it('lets a page read the config snapshot, its ETag and the 304 of a poll', async () => {
    const first = await t.request('GET', '/v1/sdk/config', { key: clientKey, headers: { origin: PAGE } });
    expect(first.status).toBe(200);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    expect(String(first.headers['access-control-expose-headers'])).toContain('etag');
    const etag = String(first.headers.etag);
    const poll = await t.request('GET', '/v1/sdk/config', { key: clientKey, headers: { origin: PAGE, 'if-none-match': etag } });
    expect(poll.status).toBe(304);
    expect(poll.headers['access-control-allow-origin']).toBe('*');
  });

  it('lets a page read assignments over real HTTP (fast route) and event answers, errors included', async () => {
    const assign = await fetch(`${base}/v1/assign`, {
      method: 'POST',
      headers: { origin: PAGE, authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ unitId: 'browser-user' }),
    });
    expect(assign.status).toBe(200);
    expect(assign.headers.get('access-control-allow-origin')).toBe('*');
    expect(assign.headers.get('access-control-expose-headers')).toBe('etag, retry-after, x-request-id');
    const events = await t.request('POST', '/v1/events', {
      key: clientKey,
      headers: { origin: PAGE },
      body: { events: [{ id: randomUUID(), type: 'metric', unitId: 'browser-user', name: 'click' }] },
    });
    expect([events.status, events.body.accepted]).toEqual([202, 1]);
    expect(events.headers['access-control-allow-origin']).toBe('*');
    // A page must be able to read why it was refused.
    const refused = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { origin: PAGE, 'content-type': 'application/json' },
      body: '{"events":[]}',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('adds nothing to requests without an Origin, and keeps the management API same-origin', async () => {
    const server = await t.request('POST', '/v1/assign', { key: clientKey, body: { unitId: 'server-user' } });
    expect(server.status).toBe(200);
    expect(server.headers['access-control-allow-origin']).toBeUndefined();
    const admin = await t.request('GET', '/v1/experiments', { headers: { origin: PAGE } });
    expect(admin.status).toBe(200);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
    const adminPreflight = await preflight(t, '/v1/experiments');
    expect(adminPreflight.status).toBe(404);
    expect(adminPreflight.body.error.code).toBe('route_not_found');
    expect(adminPreflight.headers['access-control-allow-origin']).toBeUndefined();
    const importPreflight = await preflight(t, '/v1/events/import');
    expect(importPreflight.status).toBe(404);
  });
});

describe('CORS with STRATA_CORS_ORIGINS set', () => {
  it('answers listed origins only, with Vary: Origin', async () => {
    const t = await createTestApp({ STRATA_CORS_ORIGINS: 'https://shop.example, http://localhost:5173' });
    try {
      const clientKey = (await t.admin('POST', '/v1/api-keys', { name: 'web', type: 'sdk-client' })).body.secret;
      const allowed = await preflight(t, '/v1/events', 'http://localhost:5173');
      expect([allowed.status, allowed.headers['access-control-allow-origin'], allowed.headers.vary]).toEqual([
        204,
        'http://localhost:5173',
        'Origin',
      ]);
      const other = await preflight(t, '/v1/events', 'https://evil.example');
      expect(other.status).toBe(204);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const res = await t.request('POST', '/v1/assign', { key: clientKey, headers: { origin: PAGE }, body: { unitId: 'u1' } });
      expect([res.headers['access-control-allow-origin'], res.headers.vary]).toEqual([PAGE, 'Origin']);
      const blocked = await t.request('POST', '/v1/assign', {
        key: clientKey,
        headers: { origin: 'https://evil.example' },
        body: { unitId: 'u1' },
      });
      // Served (a server-side caller could send it anyway), but a browser won't let the page read it.
      expect(blocked.status).toBe(200);
      expect(blocked.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('answers no origin at all when empty', async () => {
    const t = await createTestApp({ STRATA_CORS_ORIGINS: '' });
    try {
      const res = await preflight(t, '/v1/events');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
