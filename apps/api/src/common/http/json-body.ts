import type { FastifyInstance } from 'fastify';

export type JsonBodyParser = (request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => void;

/**
 * Fastify's own JSON parser (bad JSON, `__proto__` and `constructor` poisoning → its errors), except
 * that an empty body is no body (`undefined`) rather than a 400: `curl -X POST …/start` with a JSON
 * content type and no `-d` is what people and tools send to action routes (start, stop, revoke),
 * whose body is optional. A route that needs a body still answers 400 naming it, from its schema.
 */
export function jsonBodyParser(fastify: FastifyInstance): JsonBodyParser {
  const config = fastify.initialConfig;
  const parse = fastify.getDefaultJsonParser(config.onProtoPoisoning ?? 'error', config.onConstructorPoisoning ?? 'error') as unknown as JsonBodyParser;
  return (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else parse(request, body, done);
  };
}
