import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createExperimentSchema,
  keySchema,
  listExperimentsQuerySchema,
  rampExperimentSchema,
  rerandomizeExperimentSchema,
  startExperimentSchema,
  shipExperimentSchema,
  stopExperimentSchema,
  updateExperimentSchema,
  type ExperimentDto,
  type Page,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CiAllowed, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { ExperimentService } from './experiment.service';

const keyParam = z.object({ key: keySchema });

@ApiTags('experiments')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments')
export class ExperimentController {
  constructor(private readonly experiments: ExperimentService) {}

  @Auth('write')
  @Post()
  @ApiZodBody(createExperimentSchema)
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<ExperimentDto> {
    return this.experiments.create(principal, parseOrThrow(createExperimentSchema, body));
  }

  @Get()
  @ApiZodQuery(listExperimentsQuerySchema)
  list(@Query() query: unknown): Promise<Page<ExperimentDto>> {
    return this.experiments.list(parseOrThrow(listExperimentsQuerySchema, query, 'query'));
  }

  @CiAllowed()
  @Get(':key')
  get(@Param() params: unknown): Promise<ExperimentDto> {
    return this.experiments.get(parseOrThrow(keyParam, params, 'params').key);
  }

  @Auth('write')
  @Patch(':key')
  @ApiZodBody(updateExperimentSchema)
  update(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<ExperimentDto> {
    return this.experiments.update(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(updateExperimentSchema, body));
  }

  @Auth('write')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<void> {
    await this.experiments.remove(principal, parseOrThrow(keyParam, params, 'params').key);
  }

  @Auth('write')
  @Post(':key/start')
  @HttpCode(200)
  @ApiZodBody(startExperimentSchema)
  start(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<ExperimentDto> {
    const { startedAt } = parseOrThrow(startExperimentSchema, body ?? {});
    return this.experiments.start(principal, parseOrThrow(keyParam, params, 'params').key, startedAt);
  }

  @Auth('write')
  @Post(':key/ramp')
  @HttpCode(200)
  @ApiZodBody(rampExperimentSchema)
  ramp(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<ExperimentDto> {
    return this.experiments.ramp(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(rampExperimentSchema, body).traffic);
  }

  @Auth('write')
  @Post(':key/stop')
  @HttpCode(200)
  @ApiZodBody(stopExperimentSchema)
  stop(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<ExperimentDto> {
    return this.experiments.stop(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(stopExperimentSchema, body ?? {}).reason);
  }

  @Auth('write')
  @Post(':key/ship')
  @HttpCode(200)
  @ApiZodBody(shipExperimentSchema)
  ship(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<ExperimentDto> {
    return this.experiments.ship(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(shipExperimentSchema, body).variant);
  }

  /** Shipped (or stopped) → concluded: it leaves assign replies and the SDK config; results and audit stay. */
  @Auth('write')
  @Post(':key/conclude')
  @HttpCode(200)
  conclude(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<ExperimentDto> {
    return this.experiments.conclude(principal, parseOrThrow(keyParam, params, 'params').key);
  }

  @Auth('write')
  @Post(':key/rerandomize')
  @HttpCode(200)
  @ApiZodBody(rerandomizeExperimentSchema)
  rerandomize(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<ExperimentDto> {
    return this.experiments.rerandomize(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(rerandomizeExperimentSchema, body ?? {}).salt);
  }
}
