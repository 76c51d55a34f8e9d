import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';
import { signIn, TEST_PASSWORD } from '../helpers/people';

const LIMIT = 5;
let t: TestApp;
let sdkKey: string;

beforeAll(async () => {
  t = await createTestApp({ STRATA_AUTH_FAILURE_LIMIT: String(LIMIT), STRATA_AUTH_FAILURE_WINDOW_SECONDS: '120' });
  await t.listen();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'limit sdk', type: 'sdk-server' })).body.secret;
  await t.admin('POST', '/v1/layers', { key: 'limits', name: 'Limits' });
  await signIn(t, 'limited@example.com', 'viewer', TEST_ADMIN_KEY);
});
afterAll(async () => {
  await t?.close();
});

/** A request over real HTTP from a chosen loopback address (127.0.0.x), as distinct clients. */
function from(
  client: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; retryAfter: string | undefined; code: string | undefined }> {
  const url = new URL(path, t.baseUrl as string);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        localAddress: client,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          done({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code });
        });
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('failed authentications', () => {
  it('answers 429 with Retry-After once one address sent too many bad keys, on Nest routes and the assign fast route', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT - 1; i++)
      statuses.push((await from('127.0.0.2', 'GET', '/v1/layers', bearer(`sk_admin_guess-${i}-aaaaaaaaaaaaaaaaaaaaaa`))).status);
    expect(statuses).toEqual(Array(LIMIT - 1).fill(401));
    const last = await from('127.0.0.2', 'POST', '/v1/assign', bearer('sk_server_guess-last-aaaaaaaaaaaaaaaaaaa'), { unitId: 'u1' });
    expect(last.status).toBe(429);
    expect(last.code).toBe('rate_limited');
    expect(Number(last.retryAfter)).toBeGreaterThan(100);
    expect(Number(last.retryAfter)).toBeLessThanOrEqual(120);
    expect((await from('127.0.0.2', 'GET', '/v1/layers', bearer('sk_admin_guess-again-aaaaaaaaaaaaaaaaaaa'))).status).toBe(429);
  });

  it('never locks out a valid key holder: valid keys from the refused address still pass, other addresses are untouched', async () => {
    expect((await from('127.0.0.2', 'GET', '/v1/layers', bearer(TEST_ADMIN_KEY))).status).toBe(200);
    expect((await from('127.0.0.2', 'POST', '/v1/assign', bearer(sdkKey), { unitId: 'u1' })).status).toBe(200);
    expect((await from('127.0.0.3', 'GET', '/v1/layers', bearer('sk_admin_someone-else-aaaaaaaaaaaaaaaaaa'))).status).toBe(401);
    expect((await from('127.0.0.3', 'GET', '/v1/layers', bearer(TEST_ADMIN_KEY))).status).toBe(200);
  });

  it('limits password guessing per address without locking the account', async () => {
    const login = (client: string, password: string) =>
      from(client, 'POST', '/v1/auth/login', {}, { email: 'limited@example.com', password });
    for (let i = 0; i < LIMIT - 1; i++) expect((await login('127.0.0.4', `wrong password ${i}`)).status).toBe(401);
    const over = await login('127.0.0.4', 'wrong password last');
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    // Even the right password waits from there (it is not even checked)…
    expect((await login('127.0.0.4', TEST_PASSWORD)).status).toBe(429);
    // …while the person signs in from anywhere else.
    expect((await login('127.0.0.5', TEST_PASSWORD)).status).toBe(200);
  });

  it('counts wrong current passwords on a password change, so a stolen session cannot guess the password', async () => {
    const session = await signIn(t, 'limited@example.com', 'viewer', TEST_ADMIN_KEY);
    const change = (currentPassword: string) =>
      from(
        '127.0.0.8',
        'POST',
        '/v1/auth/password',
        { cookie: session.cookie, 'x-csrf-token': session.csrf },
        { currentPassword, password: 'another long passphrase' },
      );
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await change(`wrong current ${i}`)).status);
    expect(statuses).toEqual([...Array(LIMIT - 1).fill(401), 429]);
    expect((await change(TEST_PASSWORD)).status).toBe(429);
  });

  it('counts per forwarded client behind a trusted proxy, and ignores X-Forwarded-For from anyone else', async () => {
    const proxied = await createTestApp(
      { STRATA_AUTH_FAILURE_LIMIT: '2', STRATA_TRUST_PROXY: '127.0.0.6' },
      { databaseUrl: t.databaseUrl },
    );
    const saved = t.baseUrl;
    try {
      t.baseUrl = await proxied.listen();
      const login = (client: string, forwardedFor: string, password: string) =>
        from(client, 'POST', '/v1/auth/login', { 'x-forwarded-for': forwardedFor }, { email: 'limited@example.com', password });
      // Through the trusted proxy, each forwarded client has its own count.
      expect((await login('127.0.0.6', '203.0.113.1', 'wrong password 1')).status).toBe(401);
      expect((await login('127.0.0.6', '203.0.113.1', 'wrong password 2')).status).toBe(429);
      expect((await login('127.0.0.6', '203.0.113.2', TEST_PASSWORD)).status).toBe(200);
      // A client that is not the proxy cannot escape its count by inventing X-Forwarded-For.
      expect((await login('127.0.0.7', '198.51.100.1', 'wrong password 3')).status).toBe(401);
      expect((await login('127.0.0.7', '198.51.100.2', 'wrong password 4')).status).toBe(429);
    } finally {
      t.baseUrl = saved;
      await proxied.close();
    }
  });
});
