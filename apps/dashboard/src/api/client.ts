import { isErrorBody, type ErrorCode, type ErrorDetail } from '@strata/contracts';

/** An error answered by the API (or a network failure, code `network_error`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error' | 'unknown_error',
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Messages of the details whose path is `path` (e.g. `variants.1.weight`). */
  messagesFor(path: string): string[] {
    return this.details.filter((d) => (d.path ?? '') === path).map((d) => d.message);
  }
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, QueryValue>;
  signal?: AbortSignal;
}

export function buildQuery(query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * How the dashboard authenticates: an admin API key (automation, development), or the session
 * cookie of a signed-in person, whose CSRF token goes along on every change.
 */
export type Credentials = { key: string } | { csrfToken: string };

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Thin fetch wrapper for the public `/v1` API: adds the bearer key (or, for a person, lets the
 * browser send the session cookie and adds the CSRF token), sends JSON, and turns the API's
 * `{ error: { code, message, details } }` body into an `ApiError`.
 */
export class ApiClient {
  private readonly credentials: Credentials;

  constructor(
    credentials: Credentials | string,
    private readonly baseUrl = '',
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {
    this.credentials = typeof credentials === 'string' ? { key: credentials } : credentials;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options, 'application/json');
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Downloads need the credentials, so they go through fetch → Blob rather than a plain link. */
  async download(path: string, query?: Record<string, QueryValue>): Promise<Blob> {
    const res = await this.send('GET', path, { query }, '*/*');
    return res.blob();
  }

  private async send(method: string, path: string, options: RequestOptions, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if ('key' in this.credentials) headers.authorization = `Bearer ${this.credentials.key}`;
    else if (UNSAFE.has(method.toUpperCase())) headers['x-csrf-token'] = this.credentials.csrfToken;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}${buildQuery(options.query)}`, {
        method,
        headers,
        body,
        signal: options.signal,
        credentials: 'same-origin',
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network_error', 'Could not reach the Strata API. Is the server running?');
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    parsed = undefined;
  }
  if (isErrorBody(parsed)) {
    return new ApiError(res.status, parsed.error.code, parsed.error.message, parsed.error.details ?? []);
  }
  return new ApiError(res.status, 'unknown_error', `The API answered ${res.status} ${res.statusText}`.trim());
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** A short user-facing message for any error thrown by a query or mutation. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return 'Something went wrong.';
}
