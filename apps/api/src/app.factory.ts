import { randomBytes } from 'node:crypto';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { LogController } from 'fastify';
import type { DataSource } from 'typeorm';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { arrivedAt, FastRoutes } from './common/http/fast-routes';
import { clientErrorHandler, frameworkErrors } from './common/http/framework-errors';
import { SDK_CORS_PATHS, SdkCors } from './common/http/sdk-cors';
import { AppException } from './common/errors/app.exception';
import { renderError } from './common/errors/render-error';
import { JSON_CONTENT_TYPE } from './common/http/content-types';
import { jsonBodyParser } from './common/http/json-body';
import { HELMET_OPTIONS, securityHeaders } from './common/http/security-headers';
import fastifyHelmet from '@fastify/helmet';
import { Telemetry } from './modules/telemetry/telemetry';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ACCESS_LOG_LEVELS: ReadonlySet<AppConfig['logLevel']> = new Set(['info', 'debug', 'trace']);

/**
 * The caller's `x-request-id` when it is sane, else a random per-process prefix and a counter
 * (`3f9a0c12b7e4-1k3`): unique across processes and restarts for correlating logs, and about ten
 * times cheaper than randomUUID (which took ~0.4 µs of every `POST /v1/assign`).
 */
function requestIds(): (given: string | string[] | undefined) => string {
  const prefix = `${randomBytes(6).toString('hex')}-`;
  let next = 0;
  return (given) => (typeof given === 'string' && REQUEST_ID.test(given) ? given : prefix + (++next).toString(36));
}

const roundMs = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * A request's latency from its arrival at the socket (fast-routes.ts' handler, less any wait behind
 * a busy event loop: loop-clock.ts; the body upload and every hook included), not from Fastify's
 * routing (`elapsedTime`).
 */
function latencyMs(raw: IncomingMessage, elapsedTime: number): number {
  const arrived = arrivedAt(raw);
  return arrived === undefined ? elapsedTime : performance.now() - arrived;
}

function nestLogLevels(level: AppConfig['logLevel']): LogLevel[] | false {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  // Nest's own start-up chatter (one line per route) only from debug on.
  const cut = { fatal: 1, error: 2, warn: 3, info: 3, debug: 5, trace: 6, silent: 0 }[level];
  return cut === 0 ? false : order.slice(0, cut);
}

/** Builds the Nest application (not yet listening): routes, errors, logs, docs, dashboard. */
export async function createApp(config: AppConfig, dataSource: DataSource, databaseUrl: string): Promise<NestFastifyApplication> {
  const requestId = requestIds();
  const fastRoutes = new FastRoutes({ ...config.server, bodyLimit: config.bodyLimit });
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimit,
    // request.ip behind the listed proxies is the client's (failed sign-ins are counted per address).
    ...(config.trustProxy !== null ? { trustProxy: config.trustProxy } : {}),
    // One JSON log line per request (below), not Fastify's two.
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => requestId(req.headers['x-request-id']),
    routerOptions: { maxParamLength: 500 },
    // Requests refused before routing get the API's error shape too.
    frameworkErrors,
    clientErrorHandler,
    // The server answers the hot routes (POST /v1/assign) itself and hands everything else to Fastify.
    serverFactory: fastRoutes.serverFactory,
  });
  const fastify = adapter.getInstance();
  // Registered before Nest's own JSON parser, which then stands aside: an empty JSON body is no body.
  adapter.useBodyParser('application/json', false, { bodyLimit: config.bodyLimit }, jsonBodyParser(fastify));
  // Callback hooks rather than async ones: these run on every request, and an async hook costs a
  // promise and a microtask turn each time. onSend (not onRequest) so that responses Fastify makes
  // before routing, e.g. a 400 for a malformed URL, carry the header too.
  const cors = new SdkCors(config.corsOrigins);
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Cross-origin headers for the SDK routes (browser SDKs); errors and 304s need them too.
    const origin = request.headers.origin;
    if (origin !== undefined) {
      const headers = cors.responseHeaders(request.url, origin);
      if (headers !== null) void reply.headers(headers);
    }
    done(null, payload);
  });
  // Browsers preflight the SDK's calls (they carry Authorization and a JSON body). No key: a
  // preflight never carries one. An origin not allowed gets no CORS headers, so the browser stops.
  for (const url of SDK_CORS_PATHS) {
    fastify.route({
      method: 'OPTIONS',
      url,
      handler: (request, reply) => {
        const headers = cors.preflightHeaders(request.url, request.headers.origin);
        if (headers !== null) void reply.headers(headers);
        void reply.code(204).send();
      },
    });
  }
  // The access log is written at info level, so below it (warn, error, silent) the hook would only
  // build a line to drop: it is not registered at all. Fast routes write the same line.
  const telemetry = new Telemetry();
  // Route templates, never raw URLs, so the metric's label set stays bounded (unknown paths: one label).
  fastify.addHook('onResponse', (request, reply, done) => {
    telemetry.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, latencyMs(request.raw, reply.elapsedTime) / 1000);
    done();
  });
  const accessLog = ACCESS_LOG_LEVELS.has(config.logLevel);
  if (accessLog) {
    fastify.addHook('onResponse', (request, reply, done) => {
      request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: roundMs(latencyMs(request.raw, reply.elapsedTime)) }, 'request');
      done();
    });
  }
  // A writer or jobs process serves only its health and metrics: the API is the api role's.
  if (!config.roles.api) {
    fastify.addHook('onRequest', (request, reply, done) => {
      const path = request.url.split('?')[0];
      if (path === '/health' || path === '/v1/system/metrics' || path === '/v1/events/stats') return done();
      const rendered = renderError(new AppException('route_not_found', `A ${config.role} process serves only /health, /v1/system/metrics and /v1/events/stats.`), request.id);
      void reply.headers(rendered.headers).type(JSON_CONTENT_TYPE).status(rendered.status).send(rendered.body);
    });
  }
  // Unattached (not the api role), the fast routes leave every request to Fastify and the hook above.
  if (config.roles.api) fastRoutes.attach(fastify, {
    requestId,
    cors,
    securityHeaders: securityHeaders(),
    accessLog: accessLog
      ? (reqId, method, url, status, ms) => fastify.log.info({ reqId, method, url, status, ms: roundMs(ms) }, 'request')
      : null,
    observe: (route, status, seconds) => telemetry.observeRequest('POST', route, status, seconds),
  });

  const logLevels = nestLogLevels(config.logLevel);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, dataSource, databaseUrl, fastRoutes, telemetry), adapter, {
    logger: logLevels === false ? false : new ConsoleLogger({ json: true, logLevels }),
    abortOnError: false,
  });
  // Security headers (CSP for the dashboard, frame-ancestors, nosniff, Referrer-Policy…) on every
  // Fastify response; the fast routes send the same ones (FastRoutesOptions.securityHeaders).
  await app.register(fastifyHelmet as unknown as Parameters<NestFastifyApplication['register']>[0], HELMET_OPTIONS);

  if (existsSync(join(config.dashboardDir, 'index.html'))) {
    app.useStaticAssets({ root: config.dashboardDir, prefix: '/', index: ['index.html'] });
  }

  // Built on the first request for it, once every module registered its routes (fast routes too).
  const document = (): OpenAPIObject => {
    const built = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Strata API')
        .setDescription('Experimentation platform: configuration, assignment, event collection and analysis.')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    fastRoutes.document(built);
    return built;
  };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
  return app;
}
