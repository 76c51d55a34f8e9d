import { Inject, Injectable } from '@nestjs/common';
import { MAX_EVENTS_PER_REQUEST, type EventStatsDto, type IngestResponse } from '@strata/contracts';
import type { Principal } from '../../../common/guards/principal';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config';
import { EventStats } from './event-stats';
import { validateEvents } from './event-validator';
import type { EventRow } from '../store/event-row';
import { EventWriter, type WriteResult } from '../store/event-writer';
import { EventLog } from '../log/event-log';
import { EventLogWriter } from '../log/event-log-writer';
import { EventsRateLimitedException, EventsUnavailableException, TooManyEventsException } from '../event.exception';
import { ExperimentCatalog } from '../../config-state/experiment-catalog';
import { TokenBucketLimiter } from './rate-limiter';

/**
 * `POST /v1/events`: validate each event against the in-memory catalog, hand the valid ones to the
 * group-commit writer and answer only after they are committed — or, with STRATA_EVENT_LOG, to
 * the event log and answer only after JetStream stored them (a writer commits them later).
 * Hot path: no database read per event or per request; no answer before COMMIT (or the log's ack).
 */
@Injectable()
export class EventService {
  private readonly limiter: TokenBucketLimiter;

  constructor(
    private readonly writer: EventWriter,
    private readonly log: EventLog,
    private readonly logWriter: EventLogWriter,
    private readonly catalog: ExperimentCatalog,
    private readonly stats: EventStats,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limiter = new TokenBucketLimiter(config.rateLimit.rps, config.rateLimit.burst);
  }

  async ingest(principal: Principal, events: readonly unknown[]): Promise<IngestResponse> {
    const wait = this.limiter.take(principal.keyId ?? 'system');
    if (wait > 0) {
      this.stats.rateLimited++;
      throw new EventsRateLimitedException(wait);
    }
    if (events.length > MAX_EVENTS_PER_REQUEST) throw new TooManyEventsException(events.length, MAX_EVENTS_PER_REQUEST);
    const { rows, rejected } = validateEvents(events, { experiment: (k) => this.catalog.get(k), now: Date.now(), apiKeyId: principal.keyId });
    let result;
    try {
      result = this.log.enabled ? await this.publish(rows) : await this.writer.write(rows);
    } catch (error) {
      if (error instanceof EventsUnavailableException) this.stats.unavailable++;
      throw error;
    }
    this.stats.count(result.accepted, result.duplicates, rejected);
    return { accepted: result.accepted, duplicates: result.duplicates, rejected };
  }

  /**
   * Through the log: an id repeated within the request is settled here (a duplicate of its first
   * occurrence, as the writer counts it), a batch the stream already holds counts as duplicates;
   * an id stored by an earlier request counts as accepted now and is left out by the writer's ledger.
   */
  private async publish(rows: EventRow[]): Promise<WriteResult> {
    const seen = new Set<string>();
    const unique: EventRow[] = [];
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      unique.push(r);
    }
    const result = await this.log.publish(unique);
    return { accepted: result.accepted, duplicates: result.duplicates + rows.length - unique.length };
  }

  /** The stats with the event log's backlog and this process's log figures (GET /v1/events/stats). */
  async statsWithLog(): Promise<EventStatsDto> {
    return { ...this.snapshot(), log: this.log.enabled ? { ...(await this.log.status()), writer: this.logWriter.running ? this.logWriter.stats() : null } : null };
  }

  /** This process's counters (in memory, no I/O). */
  snapshot(): Omit<EventStatsDto, 'log'> {
    const s = this.stats;
    const w = this.writer.counters;
    return {
      since: s.since.toISOString(),
      accepted: s.accepted,
      duplicates: s.duplicates,
      rejected: s.rejected,
      rejectedByCode: { ...s.rejectedByCode },
      unavailable: s.unavailable,
      rateLimited: s.rateLimited,
      queue: { events: this.writer.queueDepth, max: this.writer.queueMax },
      writer: { transactions: w.transactions, rows: w.rows, lastError: w.lastError, lastErrorAt: w.lastErrorAt?.toISOString() ?? null },
    };
  }
}
