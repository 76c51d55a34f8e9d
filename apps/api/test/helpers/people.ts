import type { Role } from '@strata/contracts';
import type { TestApp } from './test-app';

/** A signed-in person over real HTTP: the session cookie as the browser would send it, and the CSRF token. */
export interface SignedIn {
  email: string;
  id: string;
  role: Role;
  cookie: string;
  csrf: string;
  setCookie: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

export interface HttpAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A request to a listening test app over real HTTP (fetch), as a browser or curl would make it. */
export async function http<T = any>(
  t: TestApp,
  method: string,
  path: string,
  options: { key?: string; session?: SignedIn; csrf?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  if (t.baseUrl === null) throw new Error('call t.listen() first');
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.session !== undefined) {
    headers.cookie = options.session.cookie;
    const csrf = options.csrf === undefined ? options.session.csrf : options.csrf;
    if (csrf !== null) headers['x-csrf-token'] = csrf;
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${t.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Creates the person with the admin key (unless they exist) and signs them in. */
export async function signIn(t: TestApp, email: string, role: Role, adminKey: string, password = TEST_PASSWORD): Promise<SignedIn> {
  const created = await http(t, 'POST', '/v1/users', { key: adminKey, body: { email, role, password } });
  if (created.status !== 201 && created.status !== 409)
    throw new Error(`creating ${email}: ${created.status} ${JSON.stringify(created.body)}`);
  return login(t, email, password);
}

export async function login(t: TestApp, email: string, password = TEST_PASSWORD): Promise<SignedIn> {
  const res = await http(t, 'POST', '/v1/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0];
  return { email, id: res.body.id, role: res.body.role, cookie, csrf: res.body.csrfToken, setCookie };
}
