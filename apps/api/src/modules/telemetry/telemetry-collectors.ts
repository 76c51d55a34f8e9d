import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigChangeFeed } from '../../database/config-change-feed';
import { EventService } from '../event/ingest/event.service';
import { EventLog } from '../event/log/event-log';
import { EventLogWriter } from '../event/log/event-log-writer';
import { Telemetry } from './telemetry';

/**
 * Registers the metrics whose values already have an owner: the collector's counters and queue
 * (EventService's snapshot) and the configuration feed's status. They are read at scrape time, so
 * nothing on the hot path changes.
 */
@Injectable()
export class TelemetryCollectors implements OnModuleInit {
  constructor(
    @Inject(Telemetry) private readonly telemetry: Telemetry,
    private readonly events: EventService,
    @Inject(ConfigChangeFeed) private readonly feed: ConfigChangeFeed,
    private readonly log: EventLog,
    private readonly logWriter: EventLogWriter,
  ) {}

  onModuleInit(): void {
    const t = this.telemetry;
    const events = (): ReturnType<EventService['snapshot']> => this.events.snapshot();
    t.pull('counter', 'strata_events_accepted_total', 'Events stored (newly committed).', () => events().accepted);
    t.pull('counter', 'strata_events_duplicates_total', 'Events acknowledged as already stored (same id).', () => events().duplicates);
    t.pull('counter', 'strata_events_rejected_total', 'Events rejected one by one, by reason.', () => ({ ...events().rejectedByCode }) as Record<string, number>, 'reason');
    t.pull('counter', 'strata_events_unavailable_total', 'Event batches answered 503 (queue full or database unavailable).', () => events().unavailable);
    t.pull('counter', 'strata_events_rate_limited_total', 'Event batches answered 429 (per-key rate limit).', () => events().rateLimited);
    t.pull('gauge', 'strata_writer_queue_events', 'Events waiting for the collector writer.', () => events().queue.events);
    t.pull('gauge', 'strata_writer_queue_max_events', 'Queue size beyond which new event batches get 503.', () => events().queue.max);
    t.pull('counter', 'strata_writer_transactions_total', 'Collector transactions committed.', () => events().writer.transactions);
    t.pull('counter', 'strata_writer_rows_total', 'Rows committed by the collector writer.', () => events().writer.rows);
    if (this.log.enabled) {
      // The last backlog read (a scrape refreshes it for the next one: no I/O inside the scrape).
      const backlog = this.log.backlogNow.bind(this.log);
      t.pull('gauge', 'strata_event_log_batches', 'Batches in the event log not yet committed by a writer.', () => backlog()?.messages ?? null);
      t.pull('gauge', 'strata_event_log_pending_batches', 'Batches not yet delivered to any writer.', () => backlog()?.pending ?? null);
      t.pull('gauge', 'strata_event_log_ack_pending_batches', 'Batches delivered to a writer and not yet acknowledged.', () => backlog()?.ackPending ?? null);
      t.pull('gauge', 'strata_event_log_oldest_seconds', 'Age of the oldest batch in the event log.', () => (backlog() ? (backlog()?.oldestMs ?? 0) / 1000 : null));
      t.pull('counter', 'strata_event_log_published_events_total', 'Events this process published to the log (acknowledged by JetStream).', () => this.log.published.events);
      if (this.logWriter.running) {
        t.pull('counter', 'strata_event_log_written_events_total', 'Events this writer committed from the log.', () => this.logWriter.stats().events);
        t.pull('gauge', 'strata_event_log_writer_events_per_second', 'Events this writer committed per second over the last 10 s.', () => this.logWriter.stats().eventsPerSecond);
      }
    }
    t.pull('gauge', 'strata_config_version', 'Configuration version this process serves.', () => this.feed.status().version);
    t.pull('gauge', 'strata_config_age_seconds', 'Seconds since this process last confirmed its configuration is the latest (a poll or notification).', () => this.feed.status().ageSeconds);
    t.pull('gauge', 'strata_config_behind', '1 while a newer configuration is known and applying it keeps failing (it is retried).', () => (this.feed.status().behind ? 1 : 0));
  }
}
