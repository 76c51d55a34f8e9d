import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIRRORED_HOOKS } from '../../src/common/http/fast-routes';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * `POST /v1/assign` is answered before Fastify's hook chain (fast-routes.ts). A hook added to the
 * Fastify instance (a header, a log field, a check) would silently not apply to it: this spec
 * fails until the hook is listed in MIRRORED_HOOKS, which says how the fast route does the same.
 * LOG_LEVEL info: the configuration with the most hooks (the access log's).
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ LOG_LEVEL: 'info' });
}, 180_000);
afterAll(async () => t?.close());

type HookTable = Record<string, unknown[] | undefined>;

/** The request hooks on Fastify's root instance (the context the fast route's fallback lives in). */
function rootHooks(): HookTable {
  const fastify = t.app.getHttpAdapter().getInstance() as unknown as Record<symbol, HookTable>;
  const symbol = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.hooks');
  expect(symbol, "Fastify's hook table").toBeDefined();
  return fastify[symbol!];
}

it('lists every request hook of the Fastify instance in what the fast route mirrors', () => {
  const hooks = rootHooks();
  const counts = Object.fromEntries(Object.keys(MIRRORED_HOOKS).map((name) => [name, hooks[name]?.length]));
  const mirrored = Object.fromEntries(Object.entries(MIRRORED_HOOKS).map(([name, list]) => [name, list.length]));
  expect(counts).toEqual(mirrored);
});

it('names every request hook Fastify has, so none can be left out of the table', () => {
  const lifecycle = Object.keys(rootHooks()).filter((name) => !['onRoute', 'onRegister', 'onReady', 'onListen', 'preClose', 'onClose'].includes(name));
  expect(lifecycle.sort()).toEqual(Object.keys(MIRRORED_HOOKS).sort());
});

it('documents the fast route in the OpenAPI document and answers it through Fastify too', async () => {
  const doc = await t.request<{ paths: Record<string, { post?: { operationId?: string; requestBody?: unknown } }> }>('GET', '/docs/json', { key: null });
  expect(doc.status).toBe(200);
  expect(doc.body.paths['/v1/assign']?.post?.operationId).toBe('AssignController_assign');
  expect(doc.body.paths['/v1/assign']?.post?.requestBody).toBeDefined();
  // inject() goes through Fastify (the fallback route), with the API's error shape.
  const refused = await t.request<{ error: { code: string } }>('POST', '/v1/assign', { key: null, body: { unitId: 'u1' } });
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe('unauthorized');
});
