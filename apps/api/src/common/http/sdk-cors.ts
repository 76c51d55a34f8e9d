/**
 * Cross-origin access for the routes SDKs call from web pages (with `sdk-client` keys): the
 * browser SDK fetches the config snapshot, asks for assignments and sends events from the app's
 * own origin, so without these headers every such call is blocked by the browser.
 *
 * Only the SDK routes answer cross-origin requests; the management API is for the dashboard,
 * which is served from the API's own origin, and stays same-origin. Keys travel in the
 * `Authorization` header, never in cookies, so `*` (the default) exposes nothing a page could not
 * already send: credentials mode is never allowed. `STRATA_CORS_ORIGINS` narrows it to a list.
 *
 * One source for both ways a request is answered: Fastify's `onSend` hook and OPTIONS routes
 * (app.factory.ts), and the fast route for `POST /v1/assign` (fast-routes.ts), which runs no hooks.
 */

/** The routes an SDK calls (see libs/sdk): config snapshot, assignment, events. */
export const SDK_CORS_PATHS: readonly string[] = ['/v1/sdk/config', '/v1/assign', '/v1/assign/batch', '/v1/events'];

const ALLOW_METHODS = 'GET, POST';
/** What the SDK sends: its key, JSON bodies, the snapshot's ETag on polls, a request id for tracing. */
const ALLOW_HEADERS = 'authorization, content-type, if-none-match, x-request-id';
/** What the SDK reads: the snapshot's ETag, the back-off on 429/503, the request id for support. */
const EXPOSE_HEADERS = 'etag, retry-after, x-request-id';
/** Browsers cache a preflight this long (Chromium caps it at 2 hours). */
const MAX_AGE_SECONDS = '7200';

/** `scheme://host[:port]`, as browsers send it in `Origin`. */
const ORIGIN = /^https?:\/\/[^/?#\s@]+$/i;

/** Parses `STRATA_CORS_ORIGINS`: `*`, a comma-separated list of origins, or empty (no cross-origin access). */
export function parseCorsOrigins(value: string): { origins: string[] } | { error: string } {
  const items = value
    .split(',')
    .map((s) => s.trim().replace(/\/$/, '')) // a pasted `https://shop.example/` means the origin
    .filter((s) => s.length > 0);
  if (items.includes('*')) return items.length === 1 ? { origins: ['*'] } : { error: '"*" cannot be combined with other origins' };
  const bad = items.filter((o) => !ORIGIN.test(o));
  if (bad.length > 0) return { error: `not an origin (scheme://host[:port], no path): ${bad.join(', ')}` };
  return { origins: items.map((o) => o.toLowerCase()) };
}

export class SdkCors {
  private readonly paths = new Set(SDK_CORS_PATHS);
  private readonly any: boolean;
  private readonly allowed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.allowed = new Set(origins.map((o) => o.toLowerCase()));
  }

  /** Whether `url` (path and query) is an SDK route. */
  covers(url: string): boolean {
    const q = url.indexOf('?');
    return this.paths.has(q < 0 ? url : url.slice(0, q));
  }

  /**
   * Headers for a response to `url` requested from `origin`; null when it is not a cross-origin
   * request (no Origin), not an SDK route, or the origin is not allowed (the browser then blocks it).
   */
  responseHeaders(url: string, origin: string | undefined): Record<string, string> | null {
    const allowOrigin = this.allowOrigin(url, origin);
    if (allowOrigin === null) return null;
    const headers: Record<string, string> = { 'access-control-allow-origin': allowOrigin, 'access-control-expose-headers': EXPOSE_HEADERS };
    if (!this.any) headers.vary = 'Origin';
    return headers;
  }

  /** Headers for a preflight (OPTIONS) of `url` from `origin`; null as for `responseHeaders`. */
  preflightHeaders(url: string, origin: string | undefined): Record<string, string> | null {
    const allowOrigin = this.allowOrigin(url, origin);
    if (allowOrigin === null) return null;
    const headers: Record<string, string> = {
      'access-control-allow-origin': allowOrigin,
      'access-control-allow-methods': ALLOW_METHODS,
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': MAX_AGE_SECONDS,
    };
    if (!this.any) headers.vary = 'Origin';
    return headers;
  }

  private allowOrigin(url: string, origin: string | undefined): string | null {
    if (origin === undefined || !this.covers(url)) return null;
    if (this.any) return '*';
    return this.allowed.has(origin.toLowerCase()) ? origin : null;
  }
}
