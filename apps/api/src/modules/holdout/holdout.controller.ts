import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createHoldoutSchema,
  keyParamsSchema,
  listQuerySchema,
  holdoutResultsQuerySchema,
  updateHoldoutSchema,
  type HoldoutDto,
  type HoldoutResultsDto,
  type KeyParams,
  type Page,
} from '@strata/contracts';
import type { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { HoldoutResultsService } from './holdout-results.service';
import { HoldoutService } from './holdout.service';

/** Holdouts change what every covered experiment assigns: creating, changing and deleting them is for admins. */
@ApiTags('holdouts')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/holdouts')
export class HoldoutController {
  constructor(
    private readonly holdouts: HoldoutService,
    private readonly results: HoldoutResultsService,
  ) {}

  @Auth('admin')
  @Post()
  create(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(createHoldoutSchema) body: z.output<typeof createHoldoutSchema>,
  ): Promise<HoldoutDto> {
    return this.holdouts.create(principal, body);
  }

  @Get()
  list(@ZodQuery(listQuerySchema) query: z.output<typeof listQuerySchema>): Promise<Page<HoldoutDto>> {
    return this.holdouts.list(query.limit, query.offset);
  }

  @Get(':key')
  get(@ZodParams(keyParamsSchema) params: KeyParams): Promise<HoldoutDto> {
    return this.holdouts.get(params.key);
  }

  // Query before params: a request wrong in both reports the query, as before.
  @Get(':key/results')
  getResults(
    @ZodQuery(holdoutResultsQuerySchema) query: z.output<typeof holdoutResultsQuerySchema>,
    @ZodParams(keyParamsSchema) params: KeyParams,
  ): Promise<HoldoutResultsDto> {
    return this.results.results(params.key, query);
  }

  @Auth('admin')
  @Patch(':key')
  update(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(updateHoldoutSchema) body: z.output<typeof updateHoldoutSchema>,
  ): Promise<HoldoutDto> {
    return this.holdouts.update(principal, params.key, body);
  }

  @Auth('admin')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<void> {
    await this.holdouts.remove(principal, params.key);
  }
}
