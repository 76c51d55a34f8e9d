import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { EventController } from './event.controller';
import { EventImportService } from './ingest/event-import.service';
import { EventStats } from './ingest/event-stats';
import { EventWriter } from './store/event-writer';
import { EventService } from './ingest/event.service';
import { EventLog } from './log/event-log';
import { EventLogWriter } from './log/event-log-writer';

/**
 * The event collector: `POST /v1/events`, `POST /v1/events/import`, `GET /v1/events/stats`; with
 * STRATA_EVENT_LOG, the event log (log/): the collector publishes to it, the writer role drains it.
 * Exposures are checked against ConfigStateModule's in-memory ExperimentCatalog. Exports
 * `EventWriter` (e.g. for `/v1/assign`'s exposures, as `ingest/exposure-rows.ts` makes them).
 */
@Module({
  controllers: [EventController],
  providers: [EventWriter, EventLog, EventLogWriter, EventStats, EventService, EventImportService],
  exports: [EventWriter, EventService, EventLog, EventLogWriter],
})
export class EventModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Hand NDJSON bodies to the handler as the raw stream: no buffering, so no body limit applies;
    // the import reads it line by line. Other routes reject a stream body (it fails their validation).
    if (!fastify.hasContentTypeParser('application/x-ndjson')) {
      fastify.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, payload));
    }
  }
}
