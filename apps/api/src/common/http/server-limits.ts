import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppException } from '../errors/app.exception';
import { renderError } from '../errors/render-error';
import { JSON_CONTENT_TYPE } from './content-types';

/**
 * What one client, or many, may hold of the HTTP server. Applied by the server itself
 * (fast-routes.ts' serverFactory), so they hold for the fast routes (POST /v1/assign) and for
 * everything Fastify serves alike.
 */
export interface ServerLimits {
  /** All request headers must arrive within this (slowloris: one header line every few seconds). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (a body trickled a byte at a time); then 408. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; beyond, new connections are closed at once (file descriptors and memory stay bounded). */
  maxConnections: number;
  /**
   * Request body bytes admitted at once (declared Content-Length; a chunked body counts as a full
   * `bodyLimit`). A request that would pass it is answered 503 + Retry-After before its body is
   * read, so overload costs a short answer instead of buffered bodies, parsed JSON and GC.
   */
  maxInflightBytes: number;
  /** The largest body (STRATA_BODY_LIMIT): what a chunked body of unknown length counts for. */
  bodyLimit: number;
}

/** How often Node checks the header and request timeouts (its default, 30 s, lets them overrun by that much). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

const overloaded = (() => {
  const { status, body } = renderError(
    new AppException('unavailable', 'The server is receiving more request data than it admits at once; retry after the Retry-After delay.'),
  );
  return { status, json: JSON.stringify(body) };
})();

/**
 * Admission by bytes in flight, decided on the headers alone: nothing of a refused body is read.
 * Bodiless requests (GET /health, a 304 poll) are always admitted, and so is a request when
 * nothing else is in flight, however large (bodyLimit still caps it).
 */
export class Admission {
  private inflight = 0;
  /** Requests refused so far (for tests and metrics). */
  refused = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly bodyLimit: number,
  ) {}

  get bytesInFlight(): number {
    return this.inflight;
  }

  /** Admits the request (true; its bytes are released when the response closes) or answers 503 itself (false). */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const declared = req.headers['content-length'];
    const cost =
      declared !== undefined ? Math.min(Number(declared) || 0, this.bodyLimit) : req.headers['transfer-encoding'] !== undefined ? this.bodyLimit : 0;
    if (cost === 0) return true;
    if (this.inflight > 0 && this.inflight + cost > this.maxBytes) {
      this.refused++;
      // The unread body must not be parsed as the next request: the connection closes after the answer.
      res.shouldKeepAlive = false;
      res.writeHead(overloaded.status, {
        'content-type': JSON_CONTENT_TYPE,
        'content-length': Buffer.byteLength(overloaded.json),
        'retry-after': '1',
        connection: 'close',
      });
      res.end(overloaded.json);
      return false;
    }
    this.inflight += cost;
    res.once('close', () => {
      this.inflight -= cost;
    });
    return true;
  }
}
