import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyRequest } from 'fastify';

/**
 * The session cookie and its CSRF token.
 *
 * - The cookie holds 256 random bits; the server stores only their SHA-256 (user_sessions.token_hash),
 *   so a database reader cannot sign in. HttpOnly (no script reads it), SameSite=Strict (a browser
 *   never sends it on a request another site starts), Path=/, Secure over https.
 * - CSRF: every cookie-authenticated POST, PATCH, PUT and DELETE must carry `X-CSRF-Token`, a value
 *   derived from the session token (HMAC-like SHA-256 with a fixed label) that the page learns from
 *   `GET /v1/auth/me` or the login answer. Another site can neither read it nor set a custom header
 *   without a CORS preflight, which these routes never grant. As a second line, a request whose
 *   `Origin` or `Sec-Fetch-Site` says it came from another site is refused too.
 */
export const SESSION_COOKIE = 'strata_session';
export const CSRF_HEADER = 'x-csrf-token';

/** 43 base64url characters (256 bits); anything else in the cookie is not one of ours. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`strata-csrf\0${sessionToken}`, 'utf8').digest('base64url');
}

export function sessionTokenOf(cookieHeader: string | undefined): string | null {
  if (cookieHeader === undefined || cookieHeader.length > 8192) return null;
  const value = parseCookie(cookieHeader)[SESSION_COOKIE];
  return value !== undefined && TOKEN.test(value) ? value : null;
}

/** Whether the request's CSRF token matches its session (compared in constant time). */
export function csrfTokenMatches(sessionToken: string, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** False when the browser says another site started the request (Origin of another host, or Sec-Fetch-Site: cross-site). */
export function isSameOrigin(request: Pick<FastifyRequest, 'headers'>): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  // Behind a proxy that rewrites Host, the public host arrives in X-Forwarded-Host (which a page of
  // another site cannot set on a request without a preflight).
  return originHost === request.headers.host || originHost === request.headers['x-forwarded-host'];
}

export function isHttps(request: Pick<FastifyRequest, 'protocol'>, secure: 'auto' | boolean): boolean {
  return secure === 'auto' ? request.protocol === 'https' : secure;
}

export function sessionSetCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    maxAge: maxAgeSeconds,
    secure,
  });
}

export function clearSessionCookie(secure: boolean): string {
  return stringifySetCookie({ name: SESSION_COOKIE, value: '', httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0, secure });
}
