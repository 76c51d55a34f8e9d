import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  createRolloutSchema,
  keySchema,
  revertRolloutSchema,
  rolloutCommandSchema,
  skipRolloutSchema,
  type RolloutPlanDto,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CiAllowed, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { RolloutService } from './rollout.service';

const keyParam = z.object({ key: keySchema });
/** `?ifPresent=true`: 204 instead of 404 when the experiment has no plan (the dashboard asks on every page). */
const getQuery = z.object({ ifPresent: z.enum(['true', 'false']).optional() }).strict();

/** The rollout plan of an experiment (docs/rollouts.md). `ci` keys reach the routes marked @CiAllowed. */
@ApiTags('rollouts')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments/:key/rollout')
export class RolloutController {
  constructor(private readonly rollouts: RolloutService) {}

  @Auth('write')
  @Post()
  @ApiOperation({ summary: 'Create the rollout plan of a running experiment; its traffic goes to step 0 at once' })
  @ApiZodBody(createRolloutSchema)
  create(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<RolloutPlanDto> {
    return this.rollouts.create(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(createRolloutSchema, body));
  }

  @CiAllowed()
  @Get()
  @ApiOperation({ summary: 'The plan: steps, status, health (healthy / waiting / reverted), what the step waits for, history' })
  async get(
    @Param() params: unknown,
    @Query() query: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RolloutPlanDto | undefined> {
    const key = parseOrThrow(keyParam, params, 'params').key;
    if (parseOrThrow(getQuery, query, 'query').ifPresent !== 'true') return this.rollouts.get(key);
    const plan = await this.rollouts.find(key);
    if (!plan) void reply.status(204);
    return plan ?? undefined;
  }

  @Auth('write')
  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the plan and its history; the experiment keeps its traffic' })
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<void> {
    await this.rollouts.remove(principal, parseOrThrow(keyParam, params, 'params').key);
  }

  @CiAllowed()
  @Auth('write')
  @Post('pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: the engine neither advances nor reverts until a resume' })
  @ApiZodBody(rolloutCommandSchema)
  pause(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, parseOrThrow(keyParam, params, 'params').key, {
      kind: 'pause',
      ...parseOrThrow(rolloutCommandSchema, body ?? {}),
    });
  }

  @CiAllowed()
  @Auth('write')
  @Post('resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused plan, or a reverted one from the step it reverted to (acknowledging the findings seen now)' })
  @ApiZodBody(rolloutCommandSchema)
  resume(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, parseOrThrow(keyParam, params, 'params').key, {
      kind: 'resume',
      ...parseOrThrow(rolloutCommandSchema, body ?? {}),
    });
  }

  @CiAllowed()
  @Auth('write')
  @Post('advance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Advance now: the next step without waiting for the minimums' })
  @ApiZodBody(rolloutCommandSchema)
  advance(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, parseOrThrow(keyParam, params, 'params').key, {
      kind: 'advance',
      ...parseOrThrow(rolloutCommandSchema, body ?? {}),
    });
  }

  @CiAllowed()
  @Auth('write')
  @Post('revert')
  @HttpCode(200)
  @ApiOperation({ summary: "Revert: traffic to the last safe step, or to 0 % (`to`, default the plan's onHarm)" })
  @ApiZodBody(revertRolloutSchema)
  revert(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, parseOrThrow(keyParam, params, 'params').key, {
      kind: 'revert',
      ...parseOrThrow(revertRolloutSchema, body ?? {}),
    });
  }

  @Auth('write')
  @Post('skip')
  @HttpCode(200)
  @ApiOperation({ summary: 'Skip to a named step (0-based)' })
  @ApiZodBody(skipRolloutSchema)
  skip(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, parseOrThrow(keyParam, params, 'params').key, {
      kind: 'skip',
      ...parseOrThrow(skipRolloutSchema, body),
    });
  }
}
