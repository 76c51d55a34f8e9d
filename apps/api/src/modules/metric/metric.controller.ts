import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createMetricSchema,
  eventNameSuggestionsQuerySchema,
  keyParamsSchema,
  listMetricsQuerySchema,
  updateMetricSchema,
  type EventNameSuggestionsDto,
  type KeyParams,
  type MetricBaselineDto,
  type MetricDto,
  type MetricUsageDto,
  type Page,
} from '@strata/contracts';
import type { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { MetricService } from './metric.service';

@ApiTags('metrics')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/metrics')
export class MetricController {
  constructor(private readonly metrics: MetricService) {}

  @Auth('write')
  @Post()
  create(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(createMetricSchema) body: z.output<typeof createMetricSchema>,
  ): Promise<MetricDto> {
    return this.metrics.create(principal, body);
  }

  @Get()
  list(@ZodQuery(listMetricsQuerySchema) query: z.output<typeof listMetricsQuerySchema>): Promise<Page<MetricDto>> {
    return this.metrics.list(query.limit, query.offset, query.archived);
  }

  /** Event-name suggestions for the metric form: names received in the last 7 days, most frequent first. */
  @Get('event-names')
  eventNames(
    @ZodQuery(eventNameSuggestionsQuerySchema) query: z.output<typeof eventNameSuggestionsQuerySchema>,
  ): Promise<EventNameSuggestionsDto> {
    return this.metrics.eventNames(query.prefix, query.limit);
  }

  @Get(':key')
  get(@ZodParams(keyParamsSchema) params: KeyParams): Promise<MetricDto> {
    return this.metrics.get(params.key);
  }

  /** Observed baseline (control of the most recent experiment measuring it), for the power calculator. */
  @Get(':key/baseline')
  baseline(@ZodParams(keyParamsSchema) params: KeyParams): Promise<MetricBaselineDto> {
    return this.metrics.baseline(params.key);
  }

  /** The experiments using the metric as primary, secondary or guardrail metric. */
  @Get(':key/usage')
  usage(@ZodParams(keyParamsSchema) params: KeyParams): Promise<MetricUsageDto> {
    return this.metrics.usage(params.key);
  }

  @Auth('write')
  @Patch(':key')
  update(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(updateMetricSchema) body: z.output<typeof updateMetricSchema>,
  ): Promise<MetricDto> {
    return this.metrics.update(principal, params.key, body);
  }

  /** Hides the metric from pickers and the default list; experiments using it keep measuring it. */
  @Auth('write')
  @Post(':key/archive')
  @HttpCode(200)
  archive(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<MetricDto> {
    return this.metrics.setArchived(principal, params.key, true);
  }

  @Auth('write')
  @Post(':key/unarchive')
  @HttpCode(200)
  unarchive(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<MetricDto> {
    return this.metrics.setArchived(principal, params.key, false);
  }

  @Auth('write')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<void> {
    await this.metrics.remove(principal, params.key);
  }
}
