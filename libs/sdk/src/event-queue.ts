import { backoffDelay, errorMessage, isRetryableStatus, parseRetryAfter, request, unrefTimer } from './http';
import { StrataError, type StrataStats, type WireEvent } from './types';

export interface EventQueueOptions {
  url: string;
  sdkKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
  flushIntervalMs: number;
  maxBatchSize: number;
  maxQueueSize: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  report: (error: StrataError) => void;
}

/** Keepalive requests may carry at most 64 KiB in total; stay under it with room for headers. */
const KEEPALIVE_BYTES = 60_000;

interface IngestAnswer {
  accepted?: number;
  duplicates?: number;
  rejected?: { index: number; code: string; message: string }[];
}

/**
 * Bounded, batched, retried delivery to `POST /v1/events`.
 * - One batch in flight at a time; a batch keeps its events (and their ids) across retries, so a
 *   retry of a batch the API already stored counts as duplicates, never twice.
 * - Retries on network errors, 429 and 5xx with exponential backoff + jitter, honouring Retry-After.
 * - When the queue is full the oldest queued event is dropped and counted.
 * Must not: throw to the caller, block enqueue on I/O, or keep a Node process alive.
 */
export class EventQueue {
  private queue: WireEvent[] = [];
  private head = 0;
  private inFlight = 0;
  private pumping: Promise<void> | null = null;
  private interval: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  /** Set by flush and the interval: send partial batches too, until the queue is empty. */
  private drainAll = false;
  private readonly counters = { sent: 0, dropped: 0, retries: 0, failures: 0 };

  constructor(private readonly o: EventQueueOptions) {
    this.interval = setInterval(() => {
      if (this.size > 0) this.kick(true);
    }, o.flushIntervalMs);
    unrefTimer(this.interval);
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  stats(): StrataStats {
    return { queued: this.size + this.inFlight, ...this.counters };
  }

  enqueue(event: WireEvent): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    if (this.size >= this.o.maxQueueSize) {
      this.head++;
      this.counters.dropped++;
      if (this.counters.dropped === 1 || this.counters.dropped % 1000 === 0)
        this.o.report(
          new StrataError('delivery', `event queue full (${this.o.maxQueueSize}): dropped ${this.counters.dropped} oldest event(s) so far`),
        );
    }
    this.queue.push(event);
    if (this.size >= this.o.maxBatchSize) this.kick();
  }

  /**
   * Sends everything queued; resolves when the queue is empty or `timeoutMs` passed (never rejects).
   * A pending backoff is not cut short (the API asked for it); while a flush is awaited a timer
   * keeps Node alive, since the SDK's own timers never do.
   */
  async flush(timeoutMs?: number): Promise<void> {
    this.kick(true);
    if (this.pumping === null) return;
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const deadline = timeoutMs === undefined ? [] : [new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))];
      await Promise.race([this.drained(), ...deadline]);
    } finally {
      clearInterval(keepAlive);
      clearTimeout(timer);
    }
  }

  /** Resolves once nothing is queued or in flight (events enqueued meanwhile included). */
  private async drained(): Promise<void> {
    while (this.pumping !== null) {
      await this.pumping;
      this.kick(true);
    }
  }

  /** Flushes (bounded by `timeoutMs`), then stops timers; later events are dropped. */
  async close(timeoutMs: number): Promise<void> {
    if (this.interval !== null) clearInterval(this.interval);
    this.interval = null;
    await this.flush(timeoutMs);
    this.closed = true;
  }

  /**
   * Page is being hidden (maybe unloaded): send everything now with `keepalive` requests, which
   * the browser completes after the page is gone. Chunks stay under the 64 KiB keepalive limit.
   * Events whose request fails go back to the queue in case the page lives on.
   */
  flushOnHide(): void {
    if (this.size === 0) return;
    const events = this.take(this.size);
    let chunk: WireEvent[] = [];
    let bytes = 20;
    const send = (batch: WireEvent[]): void => {
      this.inFlight += batch.length;
      void this.post(batch, true).then((outcome) => {
        this.inFlight -= batch.length;
        if (outcome.kind === 'retry') this.requeueFront(batch);
      });
    };
    for (const e of events) {
      const size = JSON.stringify(e).length + 1;
      if (chunk.length > 0 && (bytes + size > KEEPALIVE_BYTES || chunk.length >= this.o.maxBatchSize)) {
        send(chunk);
        chunk = [];
        bytes = 20;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length > 0) send(chunk);
  }

  /**
   * Starts the sender. Without `all` it sends only full batches (batching by size); `all` (flush,
   * interval) sends the remainder too. A running sender picks the flag up on its next round.
   */
  private kick(all = false): void {
    if (all) this.drainAll = true;
    if (this.pumping !== null || this.size === 0) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private async pump(): Promise<void> {
    while (this.size >= this.o.maxBatchSize || (this.drainAll && this.size > 0)) {
      const batch = this.take(this.o.maxBatchSize);
      this.inFlight = batch.length;
      try {
        await this.deliver(batch);
      } finally {
        this.inFlight = 0;
      }
    }
    if (this.size === 0) this.drainAll = false;
  }

  private async deliver(batch: WireEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.post(batch, false);
      if (outcome.kind !== 'retry') return;
      if (attempt >= this.o.maxRetries) {
        this.counters.failures += batch.length;
        this.o.report(
          new StrataError(
            'delivery',
            `gave up on ${batch.length} event(s) after ${attempt + 1} attempts: ${outcome.reason}`,
            outcome.status,
          ),
        );
        return;
      }
      this.counters.retries++;
      await this.sleep(backoffDelay(attempt, this.o.retryBaseMs, this.o.retryMaxMs, outcome.retryAfterMs));
    }
  }

  private async post(
    batch: WireEvent[],
    keepalive: boolean,
  ): Promise<{ kind: 'done' } | { kind: 'retry'; reason: string; status?: number; retryAfterMs: number | null }> {
    let res;
    try {
      res = await request(
        this.o.fetch,
        this.o.url,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${this.o.sdkKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events: batch }),
          keepalive,
        },
        this.o.timeoutMs,
      );
    } catch (error) {
      const reason = errorMessage(error);
      this.o.report(error instanceof StrataError ? error : new StrataError('network', reason));
      return { kind: 'retry', reason, retryAfterMs: null };
    }
    if (res.status >= 200 && res.status < 300) {
      const answer = (res.body ?? {}) as IngestAnswer;
      const rejected = Array.isArray(answer.rejected) ? answer.rejected : [];
      this.counters.sent += batch.length - rejected.length;
      if (rejected.length > 0) {
        this.counters.failures += rejected.length;
        this.o.report(
          new StrataError(
            'rejected',
            `the API rejected ${rejected.length} of ${batch.length} event(s): ${rejected[0].code} ${rejected[0].message}`,
            res.status,
            rejected,
          ),
        );
      }
      return { kind: 'done' };
    }
    const reason = `HTTP ${res.status}${describe(res.body)}`;
    if (isRetryableStatus(res.status)) {
      this.o.report(new StrataError('http', `POST ${this.o.url}: ${reason} (will retry)`, res.status, res.body));
      return { kind: 'retry', reason, status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
    }
    this.counters.failures += batch.length;
    this.o.report(new StrataError('http', `POST ${this.o.url}: ${reason}; dropped ${batch.length} event(s)`, res.status, res.body));
    return { kind: 'done' };
  }

  private take(n: number): WireEvent[] {
    const batch = this.queue.slice(this.head, this.head + n);
    this.head += batch.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private requeueFront(batch: WireEvent[]): void {
    this.queue = batch.concat(this.queue.slice(this.head));
    this.head = 0;
    const excess = this.size - this.o.maxQueueSize;
    if (excess > 0) {
      this.head = excess;
      this.counters.dropped += excess;
    }
    this.kick();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => unrefTimer(setTimeout(resolve, ms)));
  }
}

function describe(body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return error && typeof error.code === 'string' ? ` ${error.code}: ${String(error.message)}` : '';
}
