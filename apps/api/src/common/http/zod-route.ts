import { Body, Param, Query, type PipeTransform } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery } from '@nestjs/swagger';
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

/**
 * The route's body: parsed by the schema (400 `validation_failed`) and documented from it — one schema, declared once.
 * `orEmpty`: a missing body is parsed as `{}` (commands whose every field is optional).
 */
export function ZodBody(schema: z.ZodType, options: { orEmpty?: boolean } = {}): ParameterDecorator {
  return (target, key, index) => {
    Body(parsePipe(schema, 'body', options.orEmpty))(target, key, index);
    onMethod(target, key, [ApiBody({ required: !options.orEmpty, schema: toSchema(schema) as never })]);
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

/**
 * Documents a body without parsing it, for the few routes that must check something first
 * (the origin of a sign-in, a batch's size) and then call `parseOrThrow` with the same schema.
 */
export function DocumentZodBody(schema: z.ZodType): MethodDecorator {
  return ApiBody({ schema: toSchema(schema) as never });
}
