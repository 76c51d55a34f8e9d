import { Logger } from '@nestjs/common';
import { assignRequestSchema } from '@strata/contracts';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../../common/errors/app.exception';
import { renderError } from '../../common/errors/render-error';
import { CI_ONLY } from '../../common/guards/ci-only';
import type { FastRoutes } from '../../common/http/fast-routes';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import type { ApiKeyService } from '../api-key/api-key.service';
import { assignResponseJson } from './assignment-json';
import type { AssignmentService } from './assignment.service';
import { sessionTokenOf } from '../user/session-cookie';
import { JSON_CONTENT_TYPE } from '../../common/http/content-types';

const logger = new Logger('AssignRoute');
/** As ApiKeyGuard answers a signed-in person on an `sdk` route. */
const SDK_ONLY = new AppException('forbidden', 'This endpoint is for SDKs and servers: send an API key ("Authorization: Bearer <key>").');

/**
 * `POST /v1/assign`, outside Nest's router, reached two ways with one handler (`answer`):
 * - a fast route (common/http/fast-routes.ts): Node's http server answers plain JSON requests
 *   itself, before Fastify; this is how SDKs and the benchmark reach it;
 * - a plain Fastify route: `inject()`, requests during shutdown, and whatever the fast route
 *   hands on (other content types, chunked or compressed bodies, bodies over the limit).
 *
 * HOT PATH. Nest's per-request pipeline (reflector lookups for the guard, the exception zone,
 * interceptor and param plumbing) cost about a third of the server's CPU per request here, and
 * Fastify's (hooks, request/reply objects, body parser, send pipeline) about an eighth of what
 * was left. `answer` does the same work as the controllers with none of it: the same in-memory key
 * check as ApiKeyGuard's `sdk` scope (no query), the same zod schema, the same error shape
 * (renderError, as the global filter), the same service. It must not touch the database unless
 * `logExposures` asks for it, and needs no promise otherwise. The batch, config and explain
 * routes stay in AssignmentController.
 */
export function registerAssignRoute(
  fastify: FastifyInstance,
  fastRoutes: FastRoutes,
  keys: ApiKeyService,
  assignments: AssignmentService,
): void {
  const answer = (headers: IncomingHttpHeaders, client: string, body: unknown): string | Promise<string> => {
    if (headers.authorization === undefined) throw sessionTokenOf(headers.cookie) === null ? new AppException('unauthorized') : SDK_ONLY;
    const key = keys.authenticateBearer(headers.authorization, client);
    if (key.type === 'ci') throw CI_ONLY;
    const input = parseOrThrow(assignRequestSchema, body);
    if (input.logExposures !== true) {
      const reply = assignments.assignmentsFor(input);
      return assignResponseJson(reply.assignments, reply.defaults);
    }
    return assignments.assign(input, key.id).then((result) => assignResponseJson(result.assignments, result.defaults));
  };

  fastRoutes.post('/v1/assign', (request) => answer(request.headers, request.client, request.body));
  fastify.route({
    method: 'POST',
    url: '/v1/assign',
    errorHandler: (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const rendered = renderError(error, request.id);
      if (rendered.unexpected) logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      void reply.headers(rendered.headers).code(rendered.status).type(JSON_CONTENT_TYPE).send(JSON.stringify(rendered.body));
    },
    // Not async: a returned string is sent at once, a thrown error goes to errorHandler above.
    handler: (request: FastifyRequest, reply: FastifyReply): string | Promise<string> => {
      void reply.type(JSON_CONTENT_TYPE);
      return answer(request.headers, request.ip, request.body);
    },
  });
}
