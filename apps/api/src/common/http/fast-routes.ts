import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerFactory } from 'fastify';
import { renderError } from '../errors/render-error';
import { missingHost, nodeRefusal } from './framework-errors';
import type { SdkCors } from './sdk-cors';
import { JSON_CONTENT_TYPE } from './content-types';
import { jsonBodyParser, type JsonBodyParser } from './json-body';
import { Admission, TIMEOUT_CHECK_INTERVAL_MS, type ServerLimits } from './server-limits';
import { LoopClock } from './loop-clock';

const ARRIVED = Symbol('arrivedAt');
type Timed = IncomingMessage & { [ARRIVED]?: number };

/**
 * When the request reached the server (performance.now()): when the handler first saw it, less the
 * time it waited in the socket behind a busy event loop (loop-clock.ts). The access log and the
 * latency metric measure from here, so waiting behind other work, the body upload and every hook
 * count, not only the route's own time.
 */
export function arrivedAt(req: IncomingMessage): number | undefined {
  return (req as Timed)[ARRIVED];
}

/** Request content types a fast route reads itself; any other goes on to Fastify (and its 415). */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

export interface FastRequest {
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** The client's address (as Fastify's `request.ip`), for limiting failed authentications. */
  readonly client: string;
}

/** Returns a 200 response's JSON, or throws what the route's Fastify error handler would get. */
export type FastRouteHandler = (request: FastRequest) => string | Promise<string>;

export interface FastRoutesOptions {
  /** The request id, as Fastify's `genReqId` makes it (from `x-request-id` when given). */
  requestId(given: string | string[] | undefined): string;
  /** The cross-origin headers the `onSend` hook adds for Fastify's requests. */
  cors: SdkCors;
  /** The security headers the helmet plugin sets on Fastify's responses (security-headers.ts). */
  securityHeaders: Readonly<Record<string, string>>;
  /** Writes the access log line the `onResponse` hook writes for Fastify's requests; null when access logs are off. */
  accessLog: ((requestId: string, method: string, url: string, status: number, ms: number) => void) | null;
  /** Records the request in the metrics (route, status, seconds); null when metrics are off. */
  observe: ((route: string, status: number, seconds: number) => void) | null;
}

/** One operation of the OpenAPI document (Nest's scanner sees only controllers, not fast routes). */
export type FastRouteOperation = NonNullable<OpenAPIObject['paths'][string]['post']>;

/**
 * Every hook on Fastify's root instance that runs for a request, and how a fast route does the same
 * without it (with the access log on: LOG_LEVEL info). A fast route skips Fastify's hook chain, so a
 * hook added there must be mirrored in `send`/`serve` here, or be shown not to matter: the hooks
 * spec (fast-route-hooks.integration-spec.ts) fails when the instance's hooks and this table differ.
 */
export const MIRRORED_HOOKS = {
  onRequest: [
    "Nest adapter: app.setOnRequestHook — not used by the API",
    "Nest adapter: 503 while closing — `closing` hands requests to Fastify once preClose ran",
    "Nest adapter: enableCors — not used (SdkCors; the fast route sends `cors.responseHeaders`)",
    "Nest adapter: security hook — not used",
    "Nest adapter: middleware routing — no Nest middleware in the API",
    "Nest adapter: versioning errors — the API does not version by header",
    "middie (Nest's middleware runner) — no middleware registered",
    "helmet: per-route options — none on fast routes",
    "helmet: headers — `securityHeaders` on every fast answer",
  ],
  preParsing: [],
  preValidation: [],
  preHandler: [],
  preSerialization: [],
  onSend: ['x-request-id and SDK CORS headers — `send` writes both'],
  onResponse: [
    "Nest adapter: app.setOnResponseHook — not used by the API",
    'latency metric — `options.observe`',
    'access log line — `options.accessLog`',
  ],
  onError: [],
  onTimeout: [],
  onRequestAbort: [],
} as const satisfies Record<string, readonly string[]>;

/** The options Fastify hands a server factory, once it has filled in its defaults. */
interface FactoryOptions {
  http?: ServerOptions | null;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number;
}


interface Attached {
  options: FastRoutesOptions;
  bodyLimit: number;
  parseJson: JsonBodyParser;
  /** The security headers and the JSON content type: what every fast answer carries. */
  securityHeaders: Readonly<Record<string, string>>;
}

/**
 * HOT PATH. Routes answered by Node's http server before Fastify sees the request: no Fastify
 * request and reply objects, no hook chain (Nest's adapter adds eight onRequest hooks, mostly
 * no-ops here), no content-type parser or reply pipeline. For `POST /v1/assign` on the 2-core
 * machine that saved ~11 µs of ~82 µs server CPU per request, and 13 % more requests/s
 * (alternating runs against one server, fast route vs the same requests sent to Fastify).
 *
 * The contract:
 * - Each fast route is also a normal Fastify route. That one serves `inject()`, requests during
 *   shutdown (Fastify's 503) and every request a fast route does not take: anything but a plain
 *   JSON body with a Content-Length within `bodyLimit` (chunked, compressed, other types, too
 *   large) goes on to Fastify, so those keep Fastify's exact answers.
 * - A fast route reproduces what the hooks do for it: the request id (honouring `x-request-id`)
 *   in the header and in error bodies, the access log line, the SDK routes' CORS headers, the error
 *   shape (renderError, as the global filter), JSON parsing with Fastify's own parser and errors.
 *   Fastify hooks added later (rate limits, security headers…) do NOT run here: add them to
 *   `send` too. The "answers alike" test in assignment.integration-spec compares both paths.
 */
export class FastRoutes {
  private readonly posts = new Map<string, FastRouteHandler>();
  private readonly operations = new Map<string, FastRouteOperation>();
  private readonly logger = new Logger('errors');
  private attached: Attached | null = null;
  private closing = false;
  /** Null until the server exists (its bodyLimit comes from Fastify's options). */
  admission: Admission | null = null;

  /** `limits` null: Fastify's own timeouts, no connection cap, no admission control (tests of other things). */
  constructor(private readonly limits: ServerLimits | null = null) {}

  /**
   * Fastify's `serverFactory`: the HTTP/1 server Fastify would create, with a look at fast routes
   * first. Fastify configures only servers it creates itself, so its timeouts are set here as it
   * would set them.
   */
  readonly serverFactory: FastifyServerFactory = (fastifyHandler, opts) => {
    const o = opts as unknown as FactoryOptions;
    const limits = this.limits;
    const admission = limits === null ? null : new Admission(limits.maxInflightBytes, limits.bodyLimit);
    this.admission = admission;
    const clock = new LoopClock();
    // Node would answer these two itself, with an empty body: here they get the error shape.
    const server: Server = createServer(
      {
        ...o.http,
        requireHostHeader: false,
        ...(limits === null
          ? {}
          : { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }),
      },
      (req, res) => {
        const now = performance.now();
        (req as Timed)[ARRIVED] = clock.arrivedAt(now);
        if (missingHost(req)) nodeRefusal(res, 'missing_host');
        else if (admission !== null && !admission.admit(req, res)) return;
        else if (!this.serve(req, res)) fastifyHandler(req, res);
      },
    );
    server.on('listening', () => clock.start());
    server.on('close', () => clock.stop());
    server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => nodeRefusal(res, 'expectation_failed'));
    if (limits === null) {
      server.keepAliveTimeout = o.keepAliveTimeout;
      server.requestTimeout = o.requestTimeout;
    } else {
      server.keepAliveTimeout = limits.keepAliveTimeoutMs;
      server.requestTimeout = limits.requestTimeoutMs;
      server.headersTimeout = limits.headersTimeoutMs;
      server.maxConnections = limits.maxConnections;
    }
    server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };

  /** Binds to the Fastify instance the server belongs to; until then every request goes to Fastify. */
  attach(fastify: FastifyInstance, options: FastRoutesOptions): void {
    const config = fastify.initialConfig;
    this.attached = {
      options,
      bodyLimit: config.bodyLimit ?? 1024 * 1024,
      // The parser Fastify's routes use (bad JSON, __proto__ → the same errors; an empty body is none).
      parseJson: jsonBodyParser(fastify),
      securityHeaders: { ...options.securityHeaders, 'content-type': JSON_CONTENT_TYPE },
    };
    // Once Fastify starts closing, requests go to it: it answers them 503 and closes the connection.
    fastify.addHook('preClose', (done) => {
      this.closing = true;
      done();
    });
  }

  /**
   * Serves `POST path` with `handler`, twice over: as a fast route, and as a plain Fastify route
   * (same handler, same error shape) for whatever the fast route hands on — `inject()`, requests
   * during shutdown, other content types, chunked or compressed bodies, bodies over the limit.
   * `operation` documents it in the OpenAPI document (`document`).
   */
  post(fastify: FastifyInstance, path: string, handler: FastRouteHandler, operation: FastRouteOperation): void {
    this.posts.set(path, handler);
    this.operations.set(path, operation);
    fastify.route({
      method: 'POST',
      url: path,
      errorHandler: (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
        const rendered = renderError(error, request.id);
        if (rendered.unexpected) this.logger.error({ requestId: request.id, err: error instanceof Error ? error.stack : String(error) });
        void reply.headers(rendered.headers).code(rendered.status).type(JSON_CONTENT_TYPE).send(JSON.stringify(rendered.body));
      },
      // Not async: a returned string is sent at once, a thrown error goes to errorHandler above.
      handler: (request: FastifyRequest, reply: FastifyReply): string | Promise<string> => {
        void reply.type(JSON_CONTENT_TYPE);
        return handler({ headers: request.headers, body: request.body, client: request.ip });
      },
    });
  }

  /** Adds every fast route's operation to the OpenAPI document. */
  document(document: OpenAPIObject): void {
    for (const [path, operation] of this.operations) document.paths[path] = { post: operation };
  }

  /** Takes the request (true) or leaves it to Fastify (false), before reading any of the body. */
  private serve(req: IncomingMessage, res: ServerResponse): boolean {
    const handler = req.method === 'POST' ? this.posts.get(req.url ?? '') : undefined;
    const app = this.attached;
    if (handler === undefined || app === null || this.closing) return false;
    const headers = req.headers;
    const type = headers['content-type'];
    // A missing Content-Length (chunked body) is NaN, which fails the comparison.
    if (
      type === undefined ||
      !PLAIN_JSON.test(type) ||
      !(Number(headers['content-length']) <= app.bodyLimit) ||
      headers['content-encoding'] !== undefined
    ) {
      return false;
    }
    const requestId = app.options.requestId(headers['x-request-id']);
    const started = app.options.accessLog === null && app.options.observe === null ? 0 : (arrivedAt(req) ?? performance.now());
    // Buffers, decoded once at the end (as Nest's body parser does): no StringDecoder per request.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      this.answer(app, req, res, handler, body, requestId, started);
    });
    return true;
  }

  private answer(
    app: Attached,
    req: IncomingMessage,
    res: ServerResponse,
    handler: FastRouteHandler,
    body: string,
    requestId: string,
    started: number,
  ): void {
    let result: string | Promise<string>;
    try {
      const parsed: { error: Error | null; value: unknown } = { error: null, value: undefined };
      app.parseJson(null, body, (error, value) => {
        parsed.error = error;
        parsed.value = value;
      });
      if (parsed.error) throw parsed.error;
      result = handler({ headers: req.headers, body: parsed.value, client: req.socket.remoteAddress ?? '' });
    } catch (error) {
      this.fail(app, req, res, error, requestId, started);
      return;
    }
    if (typeof result === 'string') this.send(app, req, res, 200, result, requestId, started, null);
    else {
      result.then(
        (json) => this.send(app, req, res, 200, json, requestId, started, null),
        (error: unknown) => this.fail(app, req, res, error, requestId, started),
      );
    }
  }

  private fail(app: Attached, req: IncomingMessage, res: ServerResponse, error: unknown, requestId: string, started: number): void {
    const rendered = renderError(error, requestId);
    if (rendered.unexpected) this.logger.error({ requestId, err: error instanceof Error ? error.stack : String(error) });
    this.send(app, req, res, rendered.status, JSON.stringify(rendered.body), requestId, started, rendered.headers);
  }

  private send(
    app: Attached,
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    json: string,
    requestId: string,
    started: number,
    headers: Record<string, string> | null,
  ): void {
    const own = { ...app.securityHeaders, 'content-length': Buffer.byteLength(json), 'x-request-id': requestId };
    // Server SDKs send no Origin: nothing to look up on the hot path.
    const origin = req.headers.origin;
    const cors = origin === undefined ? null : app.options.cors.responseHeaders(req.url ?? '', origin);
    res.writeHead(status, headers === null && cors === null ? own : { ...headers, ...cors, ...own });
    res.end(json);
    if (started !== 0) {
      const ms = performance.now() - started;
      app.options.accessLog?.(requestId, 'POST', req.url ?? '', status, ms);
      app.options.observe?.(req.url ?? '', status, ms / 1000);
    }
  }
}
