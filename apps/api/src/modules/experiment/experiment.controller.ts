import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createExperimentSchema,
  keyParamsSchema,
  listExperimentsQuerySchema,
  rampExperimentSchema,
  rerandomizeExperimentSchema,
  startExperimentSchema,
  stopExperimentSchema,
  updateExperimentSchema,
  type ExperimentDto,
  type KeyParams,
  type Page,
} from '@strata/contracts';
import type { z } from 'zod';
import { Auth, CiAllowed, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { ExperimentService } from './experiment.service';

@ApiTags('experiments')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments')
export class ExperimentController {
  constructor(private readonly experiments: ExperimentService) {}

  @Auth('write')
  @Post()
  create(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(createExperimentSchema) body: z.output<typeof createExperimentSchema>,
  ): Promise<ExperimentDto> {
    return this.experiments.create(principal, body);
  }

  @Get()
  list(@ZodQuery(listExperimentsQuerySchema) query: z.output<typeof listExperimentsQuerySchema>): Promise<Page<ExperimentDto>> {
    return this.experiments.list(query);
  }

  @CiAllowed()
  @Get(':key')
  get(@ZodParams(keyParamsSchema) params: KeyParams): Promise<ExperimentDto> {
    return this.experiments.get(params.key);
  }

  @Auth('write')
  @Patch(':key')
  update(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(updateExperimentSchema) body: z.output<typeof updateExperimentSchema>,
  ): Promise<ExperimentDto> {
    return this.experiments.update(principal, params.key, body);
  }

  @Auth('write')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<void> {
    await this.experiments.remove(principal, params.key);
  }

  // Body before params: a request wrong in both reports the body, as before.
  @Auth('write')
  @Post(':key/start')
  @HttpCode(200)
  start(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(startExperimentSchema, { orEmpty: true }) body: z.output<typeof startExperimentSchema>,
    @ZodParams(keyParamsSchema) params: KeyParams,
  ): Promise<ExperimentDto> {
    return this.experiments.start(principal, params.key, body.startedAt);
  }

  @Auth('write')
  @Post(':key/ramp')
  @HttpCode(200)
  ramp(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(rampExperimentSchema) body: z.output<typeof rampExperimentSchema>,
  ): Promise<ExperimentDto> {
    return this.experiments.ramp(principal, params.key, body.traffic);
  }

  @Auth('write')
  @Post(':key/stop')
  @HttpCode(200)
  stop(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(stopExperimentSchema, { orEmpty: true }) body: z.output<typeof stopExperimentSchema>,
  ): Promise<ExperimentDto> {
    return this.experiments.stop(principal, params.key, body.reason);
  }

  // POST :key/ship is in rollout/ship.controller.ts (a ship may come with a rollout plan).

  /** Shipped (or stopped) → concluded: it leaves assign replies and the SDK config; results and audit stay. */
  @Auth('write')
  @Post(':key/conclude')
  @HttpCode(200)
  conclude(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<ExperimentDto> {
    return this.experiments.conclude(principal, params.key);
  }

  @Auth('write')
  @Post(':key/rerandomize')
  @HttpCode(200)
  rerandomize(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(rerandomizeExperimentSchema, { orEmpty: true }) body: z.output<typeof rerandomizeExperimentSchema>,
  ): Promise<ExperimentDto> {
    return this.experiments.rerandomize(principal, params.key, body.salt);
  }
}
