import 'reflect-metadata';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppException } from '../errors/app.exception';
import { ZodBody, ZodParams, ZodQuery } from './zod-route';

/** @nestjs/swagger's metadata key for documented parameters (its constants are not exported). */
const API_PARAMETERS = 'swagger/apiParameters';

const body = z.object({ name: z.string() }).strict();
const query = z.object({ limit: z.coerce.number().int().optional() });
const params = z.object({ key: z.string().min(2) });

const documentedBody = z.object({ name: z.string(), note: z.string().optional() });
/** A check on the raw request that must come before the parse. */
function sameHost(request: FastifyRequest): void {
  if (request.headers.host !== 'strata.test') throw new AppException('csrf_failed', 'another host');
}

class Routes {
  update(@ZodParams(params) _p: unknown, @ZodBody(body) _b: unknown, @ZodQuery(query) _q: unknown): void {}
  command(@ZodBody(body.partial(), { orEmpty: true }) _b: unknown): void {}
  checked(@ZodBody(body, { before: sameHost, documentAs: documentedBody }) _b: unknown): void {}
}

/** Resolves a `before` body the way Nest does: the decorator's factory on the request. */
function checkedBody(request: { headers: Record<string, string>; body: unknown }): unknown {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Routes, 'checked') as Record<
    string,
    { index: number; data: unknown; factory: (data: unknown, ctx: unknown) => unknown }
  >;
  const arg = Object.values(args).find((a) => a.index === 0)!;
  return arg.factory(arg.data, { switchToHttp: () => ({ getRequest: () => request }) });
}

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (e) {
    return (e as AppException).code;
  }
}

type Arg = { index: number; pipes: { transform: (v: unknown) => unknown }[] };
function pipeOf(method: keyof Routes, index: number): (v: unknown) => unknown {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Routes, method) as Record<string, Arg>;
  const arg = Object.values(args).find((a) => a.index === index);
  if (!arg) throw new Error(`no argument ${index}`);
  return (v) => arg.pipes[0].transform(v);
}

describe('ZodBody, ZodQuery, ZodParams', () => {
  it('parses each part and rejects a bad one with validation_failed naming the field', () => {
    expect(pipeOf('update', 1)({ name: 'a' })).toEqual({ name: 'a' });
    expect(pipeOf('update', 2)({ limit: '5' })).toEqual({ limit: 5 });
    const error = (() => {
      try {
        pipeOf('update', 0)({ key: 'x' });
      } catch (e) {
        return e;
      }
    })() as AppException;
    expect(error).toBeInstanceOf(AppException);
    expect(error.code).toBe('validation_failed');
    expect(error.message).toMatch(/^The request params is not valid: key: /);
    expect(error.details.map((d) => d.path)).toEqual(['key']);
  });

  it('treats a missing body as {} only when asked', () => {
    expect(() => pipeOf('update', 1)(undefined)).toThrow(AppException);
    expect(pipeOf('command', 0)(undefined)).toEqual({});
  });

  it('documents the body, the query fields and the path fields from the same schemas', () => {
    const method = Object.getOwnPropertyDescriptor(Routes.prototype, 'update')?.value as object;
    const documented = Reflect.getMetadata(API_PARAMETERS, method) as { in: string; name?: string; required?: boolean }[];
    expect(documented.map((p) => [p.in, p.name, p.required])).toEqual(
      expect.arrayContaining([
        ['body', undefined, true],
        ['query', 'limit', false],
        ['path', 'key', true],
      ]),
    );
  });

  it('runs the before check on the raw request first, then parses; documents documentAs', () => {
    expect(checkedBody({ headers: { host: 'strata.test' }, body: { name: 'a' } })).toEqual({ name: 'a' });
    // The check wins over a bad body; a good request with a bad body is validation_failed.
    expect(codeOf(() => checkedBody({ headers: { host: 'evil.test' }, body: { name: 1 } }))).toBe('csrf_failed');
    expect(codeOf(() => checkedBody({ headers: { host: 'strata.test' }, body: { name: 1 } }))).toBe('validation_failed');
    const method = Object.getOwnPropertyDescriptor(Routes.prototype, 'checked')?.value as object;
    const [documented] = Reflect.getMetadata(API_PARAMETERS, method) as { in: string; schema: { properties: Record<string, unknown> } }[];
    expect(documented.in).toBe('body');
    expect(Object.keys(documented.schema.properties)).toEqual(['name', 'note']);
  });
});
