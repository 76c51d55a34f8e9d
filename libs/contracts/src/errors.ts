/**
 * The error-code registry: every error Strata returns has a code listed here, with its
 * HTTP status and a default user-facing message. The API renders them as
 * `{ "error": { "code", "message", "details" } }`; the dashboard and SDK switch on `code`.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  malformed_json: { status: 400, message: 'The request body is not valid JSON.' },
  bad_request: { status: 400, message: 'The request could not be understood.' },
  unauthorized: { status: 401, message: 'Sign in, or send an API key: "Authorization: Bearer <key>".' },
  invalid_credentials: { status: 401, message: 'The e-mail or password is wrong, or the account is disabled.' },
  forbidden: { status: 403, message: 'This API key may not call this endpoint.' },
  csrf_failed: { status: 403, message: 'Missing or wrong X-CSRF-Token header, or a cross-site request: signed-in changes need the token from GET /v1/auth/me.' },
  not_found: { status: 404, message: 'Not found.' },
  route_not_found: { status: 404, message: 'No such route.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  already_exists: { status: 409, message: 'A resource with that key already exists.' },
  invalid_transition: { status: 409, message: 'That lifecycle transition is not allowed.' },
  locked_while_running: { status: 409, message: 'That field cannot change while the experiment is running.' },
  holdout_locked: { status: 409, message: "A holdout's share and salt cannot change: units would move between the holdout and the rest." },
  too_many_holdouts: { status: 409, message: 'The number of holdouts is at its limit; delete one first.' },
  insufficient_capacity: { status: 409, message: 'The layer does not have enough free buckets.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type.' },
  uri_too_long: { status: 414, message: 'A path parameter is too long.' },
  invalid_statistics_input: { status: 400, message: 'The statistics could not be computed from these inputs.' },
  request_timeout: { status: 408, message: 'The request was not received in time.' },
  expectation_failed: { status: 417, message: 'Only "Expect: 100-continue" is supported.' },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  internal_error: { status: 500, message: 'Internal error.' },
  unavailable: { status: 503, message: 'The service is temporarily unavailable; retry later.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `variants.1.weight`; empty for the whole body. */
  path?: string;
  message: string;
  code?: string;
  [key: string]: unknown;
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details: ErrorDetail[];
    requestId?: string;
  };
}

export function errorStatus(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}
