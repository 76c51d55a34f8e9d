import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { keyParamsSchema, shipExperimentSchema, type ExperimentDto, type KeyParams } from '@strata/contracts';
import type { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams } from '../../common/http/zod-route';
import { RolloutService } from './rollout.service';

/**
 * POST /v1/experiments/:key/ship lives here, not in ExperimentController, because a ship may
 * come with a rollout plan (a staged ship, docs/rollouts.md): the rollout module owns plans and
 * already depends on the experiment module, not the other way round.
 */
@ApiTags('experiments')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments')
export class ShipController {
  constructor(private readonly rollouts: RolloutService) {}

  @Auth('write')
  @Post(':key/ship')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ship a winner: to everyone in targeting, to `traffic` percent of them, or staged by a `rollout` plan' })
  ship(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(shipExperimentSchema) body: z.output<typeof shipExperimentSchema>,
  ): Promise<ExperimentDto> {
    return this.rollouts.ship(principal, params.key, body);
  }
}
