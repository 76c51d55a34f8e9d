import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  experimentSummariesQuerySchema,
  keySchema,
  resultsQuerySchema,
  timeseriesQuerySchema,
  type ExperimentResultsDto,
  type ExperimentSummaryDto,
  type ExperimentTimeseriesDto,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { ResultService } from './result.service';

const keyParam = z.object({ key: keySchema });

@ApiTags('results')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments/:key/results')
export class ResultController {
  constructor(private readonly results: ResultService) {}

  @Get()
  @ApiZodQuery(resultsQuerySchema)
  get(@Param() params: unknown, @Query() query: unknown): Promise<ExperimentResultsDto> {
    return this.results.results(parseOrThrow(keyParam, params, 'params').key, parseOrThrow(resultsQuerySchema, query, 'query'));
  }

  @Get('timeseries')
  @ApiZodQuery(timeseriesQuerySchema)
  timeseries(@Param() params: unknown, @Query() query: unknown): Promise<ExperimentTimeseriesDto> {
    return this.results.timeseries(parseOrThrow(keyParam, params, 'params').key, parseOrThrow(timeseriesQuerySchema, query, 'query').alpha);
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
  @ApiZodQuery(experimentSummariesQuerySchema)
  list(@Query() query: unknown): Promise<ExperimentSummaryDto[]> {
    return this.results.summaries(parseOrThrow(experimentSummariesQuerySchema, query, 'query').keys);
  }
}
