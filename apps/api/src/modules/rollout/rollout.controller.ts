import { Controller, Delete, Get, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  createRolloutSchema,
  keyParamsSchema,
  revertRolloutSchema,
  rolloutCommandSchema,
  skipRolloutSchema,
  type KeyParams,
  type RolloutPlanDto,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CiAllowed, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { RolloutService } from './rollout.service';

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
  create(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(createRolloutSchema) body: z.output<typeof createRolloutSchema>,
  ): Promise<RolloutPlanDto> {
    return this.rollouts.create(principal, params.key, body);
  }

  @CiAllowed()
  @Get()
  @ApiOperation({ summary: 'The plan: steps, status, health (healthy / waiting / reverted), what the step waits for, history' })
  async get(
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodQuery(getQuery) query: z.output<typeof getQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RolloutPlanDto | undefined> {
    const key = params.key;
    if (query.ifPresent !== 'true') return this.rollouts.get(key);
    const plan = await this.rollouts.find(key);
    if (!plan) void reply.status(204);
    return plan ?? undefined;
  }

  @Auth('write')
  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the plan and its history; the experiment keeps its traffic' })
  async remove(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<void> {
    await this.rollouts.remove(principal, params.key);
  }

  @CiAllowed()
  @Auth('write')
  @Post('pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: the engine neither advances nor reverts until a resume' })
  pause(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(rolloutCommandSchema, { orEmpty: true }) body: z.output<typeof rolloutCommandSchema>,
  ): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, params.key, {
      kind: 'pause',
      ...body,
    });
  }

  @CiAllowed()
  @Auth('write')
  @Post('resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused plan, or a reverted one from the step it reverted to (acknowledging the findings seen now)' })
  resume(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(rolloutCommandSchema, { orEmpty: true }) body: z.output<typeof rolloutCommandSchema>,
  ): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, params.key, {
      kind: 'resume',
      ...body,
    });
  }

  @CiAllowed()
  @Auth('write')
  @Post('advance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Advance now: the next step without waiting for the minimums' })
  advance(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(rolloutCommandSchema, { orEmpty: true }) body: z.output<typeof rolloutCommandSchema>,
  ): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, params.key, {
      kind: 'advance',
      ...body,
    });
  }

  @CiAllowed()
  @Auth('write')
  @Post('revert')
  @HttpCode(200)
  @ApiOperation({ summary: "Revert: traffic to the last safe step, or to 0 % (`to`, default the plan's onHarm)" })
  revert(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(revertRolloutSchema, { orEmpty: true }) body: z.output<typeof revertRolloutSchema>,
  ): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, params.key, {
      kind: 'revert',
      ...body,
    });
  }

  @Auth('write')
  @Post('skip')
  @HttpCode(200)
  @ApiOperation({ summary: 'Skip to a named step (0-based)' })
  skip(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(skipRolloutSchema) body: z.output<typeof skipRolloutSchema>,
  ): Promise<RolloutPlanDto> {
    return this.rollouts.command(principal, params.key, {
      kind: 'skip',
      ...body,
    });
  }
}
