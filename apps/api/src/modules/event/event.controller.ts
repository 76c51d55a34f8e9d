import { Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiTags } from '@nestjs/swagger';
import {
  eventInputSchema,
  ingestRequestSchema,
  MAX_EVENTS_BODY_BYTES,
  MAX_EVENTS_PER_REQUEST,
  type EventStatsDto,
  type ImportResponse,
  type IngestResponse,
} from '@strata/contracts';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../../common/errors/app.exception';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody } from '../../common/http/zod-route';
import { EventImportService } from './ingest/event-import.service';
import { EventService } from './ingest/event.service';

/** What the docs show; the envelope is validated alone so each event can be rejected on its own. */
const documentedIngestBody = z.object({ events: z.array(eventInputSchema).max(MAX_EVENTS_PER_REQUEST) });

/** 1 MiB even when STRATA_BODY_LIMIT is raised for other routes. */
function withinEventsBodyLimit(request: FastifyRequest): void {
  if (Number(request.headers['content-length']) > MAX_EVENTS_BODY_BYTES)
    throw new AppException('payload_too_large', `A request body may be at most ${MAX_EVENTS_BODY_BYTES} bytes.`);
}

@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/events')
export class EventController {
  constructor(
    private readonly events: EventService,
    private readonly importer: EventImportService,
  ) {}

  /** 202 once the valid events are committed; invalid ones are listed with their index. */
  @Post()
  @Auth('sdk')
  @HttpCode(202)
  ingest(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(ingestRequestSchema, { before: withinEventsBodyLimit, documentAs: documentedIngestBody })
    body: z.output<typeof ingestRequestSchema>,
  ): Promise<IngestResponse> {
    return this.events.ingest(principal, body.events);
  }

  /** NDJSON backfill, streamed (the body is handed over unparsed by the parser EventModule registers). */
  @Post('import')
  @Auth('admin')
  @HttpCode(200)
  @ApiConsumes('application/x-ndjson')
  import(@CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest): Promise<ImportResponse> {
    return this.importer.importNdjson(principal, request.body);
  }

  @Get('stats')
  @Auth('read')
  stats(): Promise<EventStatsDto> {
    return this.events.statsWithLog();
  }
}
