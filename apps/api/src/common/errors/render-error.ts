import { HttpException } from '@nestjs/common';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@strata/contracts';
import { StatsInputError } from '@strata/stats';
import { AppException } from './app.exception';
import { isDatabaseUnavailable, isForeignKeyViolation, isUniqueViolation } from './postgres-errors';

export interface RenderedError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** Unexpected errors are logged with their stack; their detail is never sent. */
  unexpected: boolean;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function statusToCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'route_not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

function body(code: ErrorCode, message: string, details: ErrorBody['error']['details'], requestId?: string): ErrorBody {
  return { error: { code, message, details, ...(requestId ? { requestId } : {}) } };
}

/** Maps anything thrown while serving a request to the one error shape. */
export function renderError(error: unknown, requestId?: string): RenderedError {
  if (error instanceof AppException) {
    return { status: error.status, body: body(error.code, error.message, error.details, requestId), headers: error.headers, unexpected: false };
  }
  if (error instanceof HttpException) {
    // Nest wraps Fastify's own errors (bad JSON, body too large); render the original.
    const cause = (error as { cause?: unknown }).cause as FastifyLikeError | undefined;
    if (cause && typeof cause.statusCode === 'number' && typeof cause.code === 'string') return renderError(cause, requestId);
    const status = error.getStatus();
    const code = statusToCode(status);
    const message: string = status === 404 ? 'No such route.' : ERROR_CODES[code].message;
    return { status, body: body(code, message, [], requestId), headers: {}, unexpected: status >= 500 };
  }
  const e = (error ?? {}) as FastifyLikeError;
  if (e.code === 'FST_STATIC_FORBIDDEN_PATH') {
    // The dashboard's file server will not map the path (dot segments, "//", a name too long):
    // no such file, so the same 404 as any unknown path (and a browser gets the dashboard).
    return { status: 404, body: body('route_not_found', 'No such route.', [], requestId), headers: {}, unexpected: false };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own errors: body too large, bad JSON, bad content type.
    let code = statusToCode(status);
    let message: string = ERROR_CODES[code].message;
    if (status === 400 && (error instanceof SyntaxError || /JSON/i.test(e.code ?? '') || /JSON/i.test(e.message ?? ''))) {
      code = 'malformed_json';
      message = `${ERROR_CODES.malformed_json.message} ${e.message ?? ''}`.trim();
    } else if (status === 400 && e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      code = 'malformed_json';
      message = 'The request body is empty but the content type is JSON.';
    } else if (status === 413) {
      message = `${ERROR_CODES.payload_too_large.message} ${e.message ?? ''}`.trim();
    } else if (status === 415) {
      message = `${ERROR_CODES.unsupported_media_type.message} Send application/json.`;
    }
    return { status, body: body(code, message, [], requestId), headers: {}, unexpected: false };
  }
  if (error instanceof StatsInputError) {
    // Inputs libs/stats refuses (a p outside [0, 1], an inverted interval, ...): named, not a 500; logged, as
    // stored state can be the cause.
    return { status: 400, body: body('invalid_statistics_input', error.message, [], requestId), headers: {}, unexpected: true };
  }
  if (isDatabaseUnavailable(error)) {
    // Every pooled connection busy past the pool's timeout, or the database down: retry, not a bug.
    return { status: 503, body: body('unavailable', ERROR_CODES.unavailable.message, [], requestId), headers: { 'retry-after': '1' }, unexpected: false };
  }
  if (isUniqueViolation(error)) {
    // A create that didn't go through createWithUniqueKey: still a conflict, not a 500; logged so it gets its own message.
    return { status: 409, body: body('already_exists', ERROR_CODES.already_exists.message, [], requestId), headers: {}, unexpected: true };
  }
  if (isForeignKeyViolation(error)) {
    return {
      status: 409,
      body: body('conflict', 'The request refers to something that was changed or deleted at the same time; retry it.', [], requestId),
      headers: {},
      unexpected: true,
    };
  }
  return { status: 500, body: body('internal_error', ERROR_CODES.internal_error.message, [], requestId), headers: {}, unexpected: true };
}
