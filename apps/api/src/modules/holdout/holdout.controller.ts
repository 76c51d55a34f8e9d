import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createHoldoutSchema,
  keySchema,
  listQuerySchema,
  holdoutResultsQuerySchema,
  updateHoldoutSchema,
  type HoldoutDto,
  type HoldoutResultsDto,
  type Page,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { HoldoutResultsService } from './holdout-results.service';
import { HoldoutService } from './holdout.service';

const keyParam = z.object({ key: keySchema });

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
  @ApiZodBody(createHoldoutSchema)
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<HoldoutDto> {
    return this.holdouts.create(principal, parseOrThrow(createHoldoutSchema, body));
  }

  @Get()
  @ApiZodQuery(listQuerySchema)
  list(@Query() query: unknown): Promise<Page<HoldoutDto>> {
    const { limit, offset } = parseOrThrow(listQuerySchema, query, 'query');
    return this.holdouts.list(limit, offset);
  }

  @Get(':key')
  get(@Param() params: unknown): Promise<HoldoutDto> {
    return this.holdouts.get(parseOrThrow(keyParam, params, 'params').key);
  }

  @Get(':key/results')
  @ApiZodQuery(holdoutResultsQuerySchema)
  getResults(@Param() params: unknown, @Query() query: unknown): Promise<HoldoutResultsDto> {
    const q = parseOrThrow(holdoutResultsQuerySchema, query, 'query');
    return this.results.results(parseOrThrow(keyParam, params, 'params').key, q);
  }

  @Auth('admin')
  @Patch(':key')
  @ApiZodBody(updateHoldoutSchema)
  update(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<HoldoutDto> {
    return this.holdouts.update(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(updateHoldoutSchema, body));
  }

  @Auth('admin')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<void> {
    await this.holdouts.remove(principal, parseOrThrow(keyParam, params, 'params').key);
  }
}
