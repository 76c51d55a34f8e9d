import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { interactionRefreshSchema, interactionsQuerySchema, type InteractionDto, type InteractionRefreshDto } from '@strata/contracts';
import { Auth } from '../../common/guards/auth.decorator';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { InteractionService } from './interaction.service';

@ApiTags('analysis')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/analysis/interactions')
export class InteractionController {
  constructor(private readonly interactions: InteractionService) {}

  /** The stored tests of the last refresh (`?experiment=`, `?flagged=true`, `?limit=` ≤ 1000). */
  @Get()
  @ApiZodQuery(interactionsQuerySchema)
  list(@Query() query: unknown): Promise<InteractionDto[]> {
    return this.interactions.list(parseOrThrow(interactionsQuerySchema, query, 'query'));
  }

  /** Refreshes every pair's test now (after the engine caught up) and answers with the refresh's summary. */
  @Post('refresh')
  @HttpCode(200)
  @ApiZodBody(interactionRefreshSchema)
  refresh(@Body() body: unknown): Promise<InteractionRefreshDto> {
    parseOrThrow(interactionRefreshSchema, body ?? {});
    return this.interactions.refreshNow();
  }
}
