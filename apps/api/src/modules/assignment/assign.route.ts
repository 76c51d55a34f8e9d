import { assignRequestSchema } from '@strata/contracts';
import { z } from 'zod';
import { AppException } from '../../common/errors/app.exception';
import { CI_ONLY, SDK_ONLY } from '../../common/guards/ci-only';
import type { FastRouteHandler, FastRouteOperation, FastRoutes } from '../../common/http/fast-routes';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyService } from '../api-key/api-key.service';
import { assignResponseJson } from './assignment-json';
import type { AssignmentService } from './assignment.service';
import { sessionTokenOf } from '../user/session-cookie';

/**
 * `POST /v1/assign`, outside Nest's router: a fast route (common/http/fast-routes.ts), which also
 * registers the plain Fastify route for what it hands on and documents the route in OpenAPI.
 *
 * HOT PATH. Nest's per-request pipeline (reflector lookups for the guard, the exception zone,
 * interceptor and param plumbing) cost about a third of the server's CPU per request here, and
 * Fastify's (hooks, request/reply objects, body parser, send pipeline) about an eighth of what
 * was left. The handler does the same work as the controllers with none of it: the same in-memory
 * key check as ApiKeyGuard's `sdk` scope (no query), the same zod schema, the same error shape
 * (renderError, as the global filter), the same service. It must not touch the database unless
 * `logExposures` asks for it, and needs no promise otherwise. The batch, config and explain
 * routes stay in AssignmentController.
 */
export function registerAssignRoute(fastify: FastifyInstance, fastRoutes: FastRoutes, keys: ApiKeyService, assignments: AssignmentService): void {
  const answer: FastRouteHandler = ({ headers, client, body }) => {
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
  fastRoutes.post(fastify, '/v1/assign', answer, assignOperation());
}

/** The route's OpenAPI operation, from the same zod schema the handler parses with. */
function assignOperation(): FastRouteOperation {
  const body = z.toJSONSchema(assignRequestSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete body.$schema;
  return {
    operationId: 'AssignController_assign',
    tags: ['assignment'],
    summary: 'Every assignment of one unit (SDK key). No database read per request.',
    security: [{ bearer: [] }],
    requestBody: { required: true, content: { 'application/json': { schema: body as never } } },
    responses: {
      '200': {
        description: '`{ "assignments": [ { "experiment", "variant", "layer", "reason" } ] }`',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                assignments: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      experiment: { type: 'string' },
                      variant: { type: 'string' },
                      layer: { type: 'string' },
                      reason: { type: 'string', enum: ['bucketed', 'forced', 'shipped'] },
                    },
                  },
                },
              },
            },
          },
        },
      },
      '400': { description: 'Validation error (error shape with field paths)' },
      '401': { description: 'No or invalid API key' },
      '503': { description: 'Exposure logging could not be made durable; retry' },
    },
  };
}
