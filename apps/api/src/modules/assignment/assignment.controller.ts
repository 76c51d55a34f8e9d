import { Controller, Get, Header, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Explanation } from '@strata/bucketing';
import { batchAssignRequestSchema, explainQuerySchema, MAX_BATCH_UNITS } from '@strata/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppException } from '../../common/errors/app.exception';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodQuery } from '../../common/http/zod-route';
import { ConfigStateService } from '../config-state/config-state.service';
import { batchResponseJson } from './assignment-json';
import { AssignmentService } from './assignment.service';
import { JSON_CONTENT_TYPE } from '../../common/http/content-types';

/** True when an If-None-Match header names this ETag (weak comparison, as RFC 9110 says for If-None-Match). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** An oversized batch is 413 `payload_too_large` before a parse of all its units (which would only say 400). */
function batchWithinSize(request: FastifyRequest): void {
  const units = (request.body as { units?: unknown } | null)?.units;
  if (Array.isArray(units) && units.length > MAX_BATCH_UNITS) {
    throw new AppException('payload_too_large', `A batch may hold at most ${MAX_BATCH_UNITS} units; this one has ${units.length}.`, [
      { path: 'units', message: `at most ${MAX_BATCH_UNITS} units per batch`, max: MAX_BATCH_UNITS, actual: units.length },
    ]);
  }
}

@ApiTags('assignment')
@ApiBearerAuth()
@Controller('v1')
export class AssignmentController {
  constructor(
    private readonly assignments: AssignmentService,
    private readonly snapshots: ConfigStateService,
  ) {}

  /*
   * POST /v1/assign is registered as a plain Fastify route (assign.route.ts): the hot path
   * skips Nest's per-request pipeline. The batch route returns its JSON as a string built from
   * cached fragments (assignment-json.ts) rather than JSON.stringify per request.
   */
  @Post('assign/batch')
  @Auth('sdk')
  @HttpCode(200)
  @Header('content-type', JSON_CONTENT_TYPE)
  async assignBatch(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(batchAssignRequestSchema, { before: batchWithinSize }) body: z.output<typeof batchAssignRequestSchema>,
  ): Promise<string> {
    const { results } = await this.assignments.assignBatch(body, principal.keyId);
    return batchResponseJson(results);
  }

  /**
   * The snapshot SDKs evaluate locally. Serialized once per version; revalidate with If-None-Match.
   * `sdk-client` keys (browsers) get the client snapshot: no forced variants, secure values hashed.
   */
  @Get('sdk/config')
  @Auth('sdk')
  config(
    @CurrentPrincipal() principal: Principal,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ): void {
    const state = this.snapshots.snapshot();
    const client = principal.type === 'sdk-client';
    const etag = client ? state.clientEtag : state.etag;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (etagMatches(ifNoneMatch, etag)) {
      reply.code(304).send();
      return;
    }
    reply
      .code(200)
      .type(JSON_CONTENT_TYPE)
      .send(client ? state.clientJson : state.json);
  }

  @Get('explain')
  @Auth('read')
  explain(@ZodQuery(explainQuerySchema) query: z.output<typeof explainQuerySchema>): Explanation {
    return this.assignments.explain(query);
  }
}
