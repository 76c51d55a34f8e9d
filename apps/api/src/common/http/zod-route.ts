import { Body, createParamDecorator, Param, Query, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../validation/parse-or-throw';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', cycles: 'ref' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Applies a method decorator from a parameter decorator: parameter decorators run first, so the method is already on the prototype. */
function onMethod(target: object, key: string | symbol | undefined, decorators: MethodDecorator[]): void {
  if (key === undefined) throw new Error('Zod route decorators belong on route handler parameters');
  const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
  if (!descriptor) throw new Error(`No method ${String(key)} to document`);
  for (const decorate of decorators) decorate(target, key, descriptor);
}

function parsePipe(schema: z.ZodType, what: 'body' | 'query' | 'params', orEmpty = false): PipeTransform {
  return { transform: (value: unknown) => parseOrThrow(schema, orEmpty ? (value ?? {}) : value, what) };
}

function fieldsOf(schema: z.ZodObject): [string, z.ZodType][] {
  return Object.entries(schema.shape) as [string, z.ZodType][];
}

export interface ZodBodyOptions {
  /** A missing body is parsed as `{}` (commands whose every field is optional). */
  orEmpty?: boolean;
  /**
   * A check that must come before the parse, on the raw request (the origin of a sign-in, a batch's
   * size, a body's length): it throws to refuse the request, and the body is parsed only if it returns.
   */
  before?: (request: FastifyRequest) => void;
  /** What the docs show when the parse is deliberately looser (each event of a batch is validated on its own). */
  documentAs?: z.ZodType;
}

/** The raw request handed to a function at parameter resolution (pipes do not see the request). */
const FromRequest = createParamDecorator((read: (request: FastifyRequest) => unknown, ctx: ExecutionContext) =>
  read(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

/** The route's body: parsed by the schema (400 `validation_failed`) and documented from it — one schema, declared once. */
export function ZodBody(schema: z.ZodType, options: ZodBodyOptions = {}): ParameterDecorator {
  const { orEmpty = false, before, documentAs = schema } = options;
  return (target, key, index) => {
    if (before) {
      FromRequest((request: FastifyRequest) => {
        before(request);
        return parseOrThrow(schema, orEmpty ? (request.body ?? {}) : request.body, 'body');
      })(target, key, index);
    } else {
      Body(parsePipe(schema, 'body', orEmpty))(target, key, index);
    }
    onMethod(target, key, [ApiBody({ required: !orEmpty, schema: toSchema(documentAs) as never })]);
  };
}

/** The route's query string: parsed by the object schema and each field documented as a query parameter. */
export function ZodQuery(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    Query(parsePipe(schema, 'query'))(target, key, index);
    onMethod(
      target,
      key,
      fieldsOf(schema).map(([name, field]) =>
        ApiQuery({ name, required: !field.safeParse(undefined).success, schema: toSchema(field) as never }),
      ),
    );
  };
}

/** The route's path parameters: parsed by the object schema and each field documented as a path parameter. */
export function ZodParams(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    Param(parsePipe(schema, 'params'))(target, key, index);
    onMethod(
      target,
      key,
      fieldsOf(schema).map(([name, field]) => ApiParam({ name, schema: toSchema(field) as never })),
    );
  };
}
