import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createMetricSchema,
  eventNameSuggestionsQuerySchema,
  keySchema,
  listQuerySchema,
  updateMetricSchema,
  type EventNameSuggestionsDto,
  type MetricBaselineDto,
  type MetricDto,
  type MetricUsageDto,
  type Page,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { MetricService } from './metric.service';

const keyParam = z.object({ key: keySchema });

@ApiTags('metrics')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/metrics')
export class MetricController {
  constructor(private readonly metrics: MetricService) {}

  @Auth('write')
  @Post()
  @ApiZodBody(createMetricSchema)
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<MetricDto> {
    return this.metrics.create(principal, parseOrThrow(createMetricSchema, body));
  }

  @Get()
  @ApiZodQuery(listQuerySchema)
  list(@Query() query: unknown): Promise<Page<MetricDto>> {
    const { limit, offset } = parseOrThrow(listQuerySchema, query, 'query');
    return this.metrics.list(limit, offset);
  }

  /** Event-name suggestions for the metric form: names received in the last 7 days, most frequent first. */
  @Get('event-names')
  @ApiZodQuery(eventNameSuggestionsQuerySchema)
  eventNames(@Query() query: unknown): Promise<EventNameSuggestionsDto> {
    const { prefix, limit } = parseOrThrow(eventNameSuggestionsQuerySchema, query, 'query');
    return this.metrics.eventNames(prefix, limit);
  }

  @Get(':key')
  get(@Param() params: unknown): Promise<MetricDto> {
    return this.metrics.get(parseOrThrow(keyParam, params, 'params').key);
  }

  /** Observed baseline (control of the most recent experiment measuring it), for the power calculator. */
  @Get(':key/baseline')
  baseline(@Param() params: unknown): Promise<MetricBaselineDto> {
    return this.metrics.baseline(parseOrThrow(keyParam, params, 'params').key);
  }

  /** The experiments using the metric as primary, secondary or guardrail metric. */
  @Get(':key/usage')
  usage(@Param() params: unknown): Promise<MetricUsageDto> {
    return this.metrics.usage(parseOrThrow(keyParam, params, 'params').key);
  }

  @Auth('write')
  @Patch(':key')
  @ApiZodBody(updateMetricSchema)
  update(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<MetricDto> {
    return this.metrics.update(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(updateMetricSchema, body));
  }

  @Auth('write')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<void> {
    await this.metrics.remove(principal, parseOrThrow(keyParam, params, 'params').key);
  }
}
