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
  // Event batches: one event with a `__proto__` key must not cost the whole batch. JSON.parse makes
  // it an ordinary own property (no prototype is touched); the event validator then rejects that
  // event alone, with its reason (event-validator.ts).
  const parseEvents = fastify.getDefaultJsonParser('ignore', config.onConstructorPoisoning ?? 'error') as unknown as JsonBodyParser;
  return (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else if (isEventBatch(request)) parseEvents(request, body, done);
    else parse(request, body, done);
  };
}

function isEventBatch(request: unknown): boolean {
  const url = (request as { url?: unknown } | null)?.url;
  return typeof url === 'string' && (url === EVENTS_PATH || url.startsWith(`${EVENTS_PATH}?`));
}

const EVENTS_PATH = '/v1/events';
