import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';
import { http, signIn, type SignedIn } from '../helpers/people';

/**
 * Every route × every kind of caller, over real HTTP. The routes come from the server's own
 * OpenAPI document, and each must be classified below: a route added without deciding who may
 * call it fails here until it is.
 */
type Scope = 'public' | 'sdk' | 'any' | 'read' | 'write' | 'admin';
const ROUTES: Record<string, Scope> = {
  'GET /health': 'public',
  // Prometheus metrics (operations): admin keys and admins.
  'GET /v1/system/metrics': 'admin',
  'POST /v1/auth/login': 'public',
  'GET /v1/auth/me': 'any',
  'POST /v1/auth/password': 'any',
  'POST /v1/auth/logout': 'any',
  'POST /v1/assign': 'sdk',
  'POST /v1/assign/batch': 'sdk',
  'GET /v1/sdk/config': 'sdk',
  'POST /v1/events': 'sdk',
  'GET /v1/explain': 'read',
  'GET /v1/events/stats': 'read',
  'POST /v1/events/import': 'admin',
  'GET /v1/layers': 'read',
  'POST /v1/layers': 'write',
  'GET /v1/layers/{key}': 'read',
  'PATCH /v1/layers/{key}': 'write',
  'DELETE /v1/layers/{key}': 'write',
  'POST /v1/layers/{key}/rerandomize': 'write',
  'GET /v1/layers/{key}/ledger': 'read',
  'GET /v1/metrics': 'read',
  'POST /v1/metrics': 'write',
  'GET /v1/metrics/{key}': 'read',
  'GET /v1/metrics/{key}/baseline': 'read',
  'GET /v1/metrics/{key}/usage': 'read',
  'GET /v1/metrics/event-names': 'read',
  'PATCH /v1/metrics/{key}': 'write',
  'DELETE /v1/metrics/{key}': 'write',
  'POST /v1/metrics/{key}/archive': 'write',
  'POST /v1/metrics/{key}/unarchive': 'write',
  'GET /v1/experiments': 'read',
  'POST /v1/experiments': 'write',
  'GET /v1/experiments/{key}': 'read',
  'PATCH /v1/experiments/{key}': 'write',
  'DELETE /v1/experiments/{key}': 'write',
  'POST /v1/experiments/{key}/start': 'write',
  'POST /v1/experiments/{key}/ramp': 'write',
  'POST /v1/experiments/{key}/stop': 'write',
  'POST /v1/experiments/{key}/ship': 'write',
  'POST /v1/experiments/{key}/conclude': 'write',
  'POST /v1/experiments/{key}/rerandomize': 'write',
  'GET /v1/experiments/{key}/results': 'read',
  // Rollout plans (docs/rollouts.md); the ci-key rows are in CI_ROUTES.
  'POST /v1/experiments/{key}/rollout': 'write',
  'GET /v1/experiments/{key}/rollout': 'read',
  'DELETE /v1/experiments/{key}/rollout': 'write',
  'POST /v1/experiments/{key}/rollout/pause': 'write',
  'POST /v1/experiments/{key}/rollout/resume': 'write',
  'POST /v1/experiments/{key}/rollout/advance': 'write',
  'POST /v1/experiments/{key}/rollout/revert': 'write',
  'POST /v1/experiments/{key}/rollout/skip': 'write',
  // The experiments list's rows: everyone who may read the list.
  'GET /v1/experiments/summaries': 'read',
  // Recompute winsorization caps now (an operation on the analysis engine).
  'POST /v1/analysis/caps': 'admin',
  'GET /v1/analysis/interactions': 'admin',
  'POST /v1/analysis/interactions/refresh': 'admin',
  'GET /v1/experiments/{key}/results/timeseries': 'read',
  'GET /v1/experiments/{key}/export': 'read',
  'GET /v1/experiments/{key}/export/units': 'read',
  'GET /v1/experiments/{key}/export/sql': 'read',
  'GET /v1/audit': 'read',
  // Holdouts (#17): they change what every covered experiment assigns, so changing them is for admins.
  'GET /v1/holdouts': 'read',
  'POST /v1/holdouts': 'admin',
  'GET /v1/holdouts/{key}': 'read',
  'PATCH /v1/holdouts/{key}': 'admin',
  'DELETE /v1/holdouts/{key}': 'admin',
  'GET /v1/holdouts/{key}/results': 'read',
  'GET /v1/api-keys': 'admin',
  'POST /v1/api-keys': 'admin',
  'POST /v1/api-keys/{id}/revoke': 'admin',
  'GET /v1/users': 'admin',
  'POST /v1/users': 'admin',
  'GET /v1/users/{id}': 'admin',
  'PATCH /v1/users/{id}': 'admin',
  'POST /v1/users/{id}/password': 'admin',
};

/** The only routes a `ci` key (deployment pipelines) reaches, besides the public ones. */
const CI_ROUTES = new Set([
  'GET /v1/experiments/{key}',
  'GET /v1/experiments/{key}/rollout',
  'POST /v1/experiments/{key}/rollout/pause',
  'POST /v1/experiments/{key}/rollout/resume',
  'POST /v1/experiments/{key}/rollout/advance',
  'POST /v1/experiments/{key}/rollout/revert',
]);

type Caller = 'no auth' | 'sdk-client key' | 'sdk-server key' | 'ci key' | 'admin key' | 'viewer' | 'experimenter' | 'admin';
const CALLERS: Caller[] = ['no auth', 'sdk-client key', 'sdk-server key', 'ci key', 'admin key', 'viewer', 'experimenter', 'admin'];

/** What the caller gets from a route of this scope: through (any answer but 401/403), or refused with 401/403. */
function expected(route: string, scope: Scope, caller: Caller): 'through' | 401 | 403 {
  if (scope === 'public') return 'through';
  if (caller === 'no auth') return 401;
  if (caller === 'ci key') return CI_ROUTES.has(route) ? 'through' : 403;
  const isKey = caller.endsWith('key');
  // SDK routes are for machines: every key, no person (not even an admin).
  if (scope === 'sdk') return isKey ? 'through' : 403;
  if (caller === 'admin key' || caller === 'admin') return 'through';
  if (scope === 'any') return 'through';
  if (isKey) return 403;
  if (scope === 'read') return 'through';
  if (scope === 'write') return caller === 'experimenter' ? 'through' : 403;
  return 403;
}

let t: TestApp;
const keys: Partial<Record<Caller, string>> = {};
const people: Partial<Record<Caller, SignedIn>> = {};
let documented: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  await t.listen();
  keys['admin key'] = TEST_ADMIN_KEY;
  for (const type of ['sdk-client', 'sdk-server', 'ci'] as const) {
    keys[`${type} key`] = (
      await http(t, 'POST', '/v1/api-keys', { key: TEST_ADMIN_KEY, body: { name: `matrix ${type}`, type } })
    ).body.secret;
  }
  for (const role of ['viewer', 'experimenter', 'admin'] as const)
    people[role] = await signIn(t, `matrix-${role}@example.com`, role, TEST_ADMIN_KEY);
  const doc = await http<{ paths: Record<string, Record<string, unknown>> }>(t, 'GET', '/docs/json');
  documented = Object.entries(doc.body.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
});
afterAll(async () => {
  await t?.close();
});

const fill = (path: string): string => path.replace('{key}', 'matrix-nothing').replace('{id}', '00000000-0000-4000-8000-000000000000');

describe('auth matrix', () => {
  it('classifies every documented route (and documents every classified one)', () => {
    expect(
      documented.filter((r) => !(r in ROUTES)),
      'routes with no row in ROUTES: decide who may call them',
    ).toEqual([]);
    expect(
      Object.keys(ROUTES).filter((r) => !documented.includes(r)),
      'rows in ROUTES for routes that do not exist',
    ).toEqual([]);
  });

  it('lets each caller through exactly the routes its key type or role allows', async () => {
    const wrong: string[] = [];
    let checked = 0;
    // Sign-out last: it ends the session the other rows use.
    const order = Object.keys(ROUTES).sort((a, b) => Number(a.endsWith('/logout')) - Number(b.endsWith('/logout')));
    for (const route of order) {
      const [method, path] = route.split(' ');
      for (const caller of CALLERS) {
        // No body: routes refuse it after authentication (400), so what is seen here is the guard's verdict.
        const res = await http(t, method, fill(path), { key: keys[caller], session: people[caller] });
        const want = expected(route, ROUTES[route], caller);
        const got = res.status === 401 || res.status === 403 ? res.status : 'through';
        if (got !== want)
          wrong.push(`${route} as ${caller}: expected ${want}, got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
        if (res.status === 429 || res.status >= 500) wrong.push(`${route} as ${caller}: ${res.status}`);
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(Object.keys(ROUTES).length * CALLERS.length);
  });
});
