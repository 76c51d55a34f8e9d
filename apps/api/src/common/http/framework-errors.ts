import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../errors/app.exception';
import { renderError } from '../errors/render-error';
import { JSON_CONTENT_TYPE } from './content-types';

/*
 * Requests Fastify refuses before any route or hook runs: a path it cannot decode or a path
 * parameter over the limit (`frameworkErrors`), and requests Node's HTTP parser refuses
 * (`clientErrorHandler`: malformed request line or headers, headers too large, too slow), and
 * those Node's HTTP server answers itself: an HTTP/1.1 request without Host, an Expect other than
 * 100-continue (`nodeRefusal`). Their default answers use Fastify's own JSON shape or have no body
 * at all; these render the API's one error shape instead.
 */

/** Fastify's `frameworkErrors`: FST_ERR_BAD_URL (400), FST_ERR_MAX_PARAM_LENGTH (414), FST_ERR_ASYNC_CONSTRAINT. */
export function frameworkErrors(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const refusal =
    error.code === 'FST_ERR_BAD_URL'
      ? new AppException('bad_request', 'The URL is not valid: it has a malformed percent-encoding.')
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new AppException('uri_too_long', 'A path parameter is longer than 500 characters.')
        : error;
  const rendered = renderError(refusal, request.id);
  if (rendered.unexpected) request.log.error({ err: error }, 'framework error');
  void reply
    .code(rendered.status)
    .header('x-request-id', request.id)
    .type(JSON_CONTENT_TYPE)
    .send(JSON.stringify(rendered.body));
}

/** Fastify's `clientErrorHandler` (Node's `clientError`): answers on the raw socket and closes it. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppException('request_timeout')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new AppException('headers_too_large')
        : new AppException('bad_request', 'The HTTP request is malformed.');
  const { status, json } = errorJson(refusal);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy(error);
}

/**
 * What Node's HTTP server would refuse before its request handler (the server is created with
 * `requireHostHeader: false` and answers `checkExpectation` so that these get the error shape):
 * an HTTP/1.1 request without a Host header (RFC 9112 §3.2: 400).
 */
export function missingHost(req: IncomingMessage): boolean {
  return req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
}

/** Answers a request Node's HTTP server refuses (missing Host: 400; an unsupported Expect: 417) and closes the connection. */
export function nodeRefusal(res: ServerResponse, refusal: 'missing_host' | 'expectation_failed'): void {
  const { status, json } = errorJson(
    refusal === 'missing_host'
      ? new AppException('bad_request', 'An HTTP/1.1 request needs a Host header.')
      : new AppException('expectation_failed'),
  );
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(json), connection: 'close' });
  res.end(json);
}

/** A refusal answered outside Fastify (no request id yet): its status and JSON body. */
function errorJson(refusal: AppException): { status: number; json: string } {
  const { status, body } = renderError(refusal);
  return { status, json: JSON.stringify(body) };
}
