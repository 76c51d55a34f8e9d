import type { OpenAPIObject } from '@nestjs/swagger';
import { assignRequestSchema } from '@strata/contracts';
import { z } from 'zod';

/**
 * `POST /v1/assign` is a plain Fastify route (the hot path skips Nest's per-request
 * pipeline), so Nest's scanner doesn't see it: describe it here from the same zod schema.
 */
export function documentPlainRoutes(document: OpenAPIObject): void {
  const body = z.toJSONSchema(assignRequestSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete body.$schema;
  document.paths['/v1/assign'] = {
    post: {
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
    },
  };
}
