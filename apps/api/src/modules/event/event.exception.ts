import { AppException } from '../../common/errors/app.exception';

/** 503 with Retry-After: the collector could not make events durable (never accept and drop). */
export class EventsUnavailableException extends AppException {
  constructor(reason: 'queue_full' | 'database_unavailable' | 'log_unavailable' | 'shutting_down', retryAfterSeconds = 1) {
    const messages = {
      queue_full: 'The event queue is full; retry later.',
      database_unavailable: 'The event store is unreachable; retry later (events sent with an id are deduplicated, so a retry is safe).',
      log_unavailable: 'The event log did not confirm the events; retry later (a retry is safe: re-sent events are stored once).',
      shutting_down: 'The collector is shutting down; retry against another instance or later.',
    } as const;
    super('unavailable', messages[reason], [{ path: '', message: messages[reason], code: reason }], { 'retry-after': String(retryAfterSeconds) });
  }
}

export class EventsRateLimitedException extends AppException {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', `This API key sends too many requests; retry in ${retryAfterSeconds} s.`, [], { 'retry-after': String(retryAfterSeconds) });
  }
}

export class TooManyEventsException extends AppException {
  constructor(count: number, max: number) {
    super('payload_too_large', `A request may carry at most ${max} events; this one has ${count}. Split it.`, [{ path: 'events', message: `at most ${max} events`, count, max }]);
  }
}
