import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { interactionRefreshSchema, interactionsQuerySchema, type InteractionDto, type InteractionRefreshDto, type Page } from '@strata/contracts';
import type { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ZodBody, ZodQuery } from '../../common/http/zod-route';
import { InteractionService } from './interaction.service';

@ApiTags('analysis')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/analysis/interactions')
export class InteractionController {
  constructor(private readonly interactions: InteractionService) {}

  /** The stored tests of the last refresh, paged (`?experiment=`, `?flagged=true`, `?limit=` ≤ 1000, `?offset=`): `{ items, total, limit, offset }`. */
  @Get()
  list(@ZodQuery(interactionsQuerySchema) query: z.output<typeof interactionsQuerySchema>): Promise<Page<InteractionDto>> {
    return this.interactions.list(query);
  }

  /** Refreshes every pair's test now (after the engine caught up) and answers with the refresh's summary. */
  @Post('refresh')
  @HttpCode(200)
  // The body is only validated: a refresh takes no options yet.
  refresh(
    @ZodBody(interactionRefreshSchema, { orEmpty: true }) _body: z.output<typeof interactionRefreshSchema>,
  ): Promise<InteractionRefreshDto> {
    return this.interactions.refreshNow();
  }
}
