import { Inject, Injectable } from '@nestjs/common';
import { MAX_EVENTS_PER_REQUEST, type EventStatsDto, type IngestResponse } from '@strata/contracts';
import type { Principal } from '../../common/guards/principal';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventStats } from './event-stats';
import { validateEvents } from './event-validator';
import { EventWriter } from './event-writer';
import { EventsRateLimitedException, EventsUnavailableException, TooManyEventsException } from './event.exception';
import { ExperimentCatalog } from './experiment-catalog';
import { TokenBucketLimiter } from './rate-limiter';

/**
 * `POST /v1/events`: validate each event against the in-memory catalog, hand the valid ones to the
 * group-commit writer and answer only after they are committed.
 * Hot path: no database read per event or per request; no answer before COMMIT.
 */
@Injectable()
export class EventService {
  private readonly limiter: TokenBucketLimiter;

  constructor(
    private readonly writer: EventWriter,
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
      result = await this.writer.write(rows);
    } catch (error) {
      if (error instanceof EventsUnavailableException) this.stats.unavailable++;
      throw error;
    }
    this.stats.count(result.accepted, result.duplicates, rejected);
    return { accepted: result.accepted, duplicates: result.duplicates, rejected };
  }

  snapshot(): EventStatsDto {
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
