import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  experimentSummariesQuerySchema,
  keyParamsSchema,
  resultsQuerySchema,
  timeseriesQuerySchema,
  type ExperimentResultsDto,
  type ExperimentSummaryDto,
  type ExperimentTimeseriesDto,
  type KeyParams,
} from '@strata/contracts';
import type { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ZodParams, ZodQuery } from '../../common/http/zod-route';
import { ResultService } from './result.service';

@ApiTags('results')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments/:key/results')
export class ResultController {
  constructor(private readonly results: ResultService) {}

  @Get()
  get(
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodQuery(resultsQuerySchema) query: z.output<typeof resultsQuerySchema>,
  ): Promise<ExperimentResultsDto> {
    return this.results.results(params.key, query);
  }

  @Get('timeseries')
  timeseries(
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodQuery(timeseriesQuerySchema) query: z.output<typeof timeseriesQuerySchema>,
  ): Promise<ExperimentTimeseriesDto> {
    return this.results.timeseries(params.key, query.alpha);
  }
}

/** The experiments list's rows from stored state (one request for a page, not one per row). */
@ApiTags('results')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments/summaries')
export class SummaryController {
  constructor(private readonly results: ResultService) {}

  @Get()
  list(@ZodQuery(experimentSummariesQuerySchema) query: z.output<typeof experimentSummariesQuerySchema>): Promise<ExperimentSummaryDto[]> {
    return this.results.summaries(query.keys);
  }
}
