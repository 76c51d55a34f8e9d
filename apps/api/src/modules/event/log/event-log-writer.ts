import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { EventLogWriterStatsDto } from '@strata/contracts';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config';
import type { EventRow } from '../store/event-row';
import { EventWriter } from '../store/event-writer';
import { decodeBatch } from './event-log-codec';
import { EventLog } from './event-log';

/** Commit lags kept for the percentiles in the metrics (the most recent batches). */
const LAG_SAMPLES = 2048;
/** Batches pulled ahead of those being written (each up to ~1 MiB). */
const PULL_AHEAD = 128;
/** Throughput is the events committed over this window. */
const RATE_WINDOW_S = 10;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * The writer role: takes batches from the log's durable pull consumer (shared by every writer
 * process: JetStream hands each batch to one of them) and writes them with the group-commit
 * EventWriter — the batches in hand are grouped into its transactions like concurrent requests.
 *
 * Hot path. It must not: acknowledge a batch before its COMMIT returned (a crash before the ack
 * only means JetStream redelivers it after ack_wait, and the event-id ledger makes the second
 * write store nothing); drop a batch it could not write (it keeps it, telling JetStream it is
 * still working, and retries); hold more than `writerInFlight` batches or two full groups per
 * writer connection at once.
 *
 * received_at: the EventWriter stamps each row with its transaction's start (event-store.ts),
 * so however long a batch waited in the log, its rows are stamped after every watermark already
 * taken, and the analysis watermark (the safe time of AnalysisEngineService.probe) cannot pass a batch in flight.
 */
@Injectable()
export class EventLogWriter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('event-log-writer');
  private readonly enabled: boolean;
  private readonly limit: number;
  private readonly ackWaitMs: number;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private inFlight = 0;
  private inFlightRows = 0;
  /** Rows held at once: enough for every writer connection to commit full groups back to back. */
  private readonly rowLimit: number;
  private slotWaiters: (() => void)[] = [];
  private drained: (() => void) | null = null;
  private readonly lags: number[] = [];
  private lagNext = 0;
  private readonly rate: number[] = new Array<number>(RATE_WINDOW_S + 1).fill(0);
  private rateTimer: NodeJS.Timeout | null = null;
  private readonly counters = {
    messages: 0,
    events: 0,
    duplicates: 0,
    retries: 0,
    unreadable: 0,
    lastCommitAt: null as Date | null,
    lastError: null as string | null,
  };

  constructor(
    private readonly log: EventLog,
    private readonly writer: EventWriter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.enabled = config.roles.writer && config.eventLog !== null;
    this.limit = config.eventLog?.writerInFlight ?? 1;
    this.rowLimit = config.events.batchMax * config.events.writers * 2;
    this.ackWaitMs = config.eventLog?.ackWaitMs ?? 30_000;
  }

  get running(): boolean {
    return this.enabled && !this.stopping;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    // One sample a second of the cumulative count: the rate over the window without a timestamp per event.
    this.rateTimer = setInterval(() => {
      this.rate.shift();
      this.rate.push(this.counters.events);
    }, 1000);
    this.rateTimer.unref();
    this.loop = this.run();
  }

  /** Stop taking batches, finish (commit and acknowledge) those in hand. Unstarted ones go back to the log. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.enabled) return;
    this.stopping = true;
    if (this.rateTimer) clearInterval(this.rateTimer);
    await this.messages?.close().catch(() => undefined);
    for (const wake of this.slotWaiters.splice(0)) wake();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.loop;
  }

  stats(): EventLogWriterStatsDto {
    const c = this.counters;
    const lags = [...this.lags].sort((a, b) => a - b);
    return {
      running: this.running,
      messages: c.messages,
      events: c.events,
      duplicates: c.duplicates,
      eventsPerSecond: Math.round((this.rate[this.rate.length - 1] - this.rate[0]) / RATE_WINDOW_S),
      inFlight: this.inFlight,
      retries: c.retries,
      unreadable: c.unreadable,
      lastCommitAt: c.lastCommitAt?.toISOString() ?? null,
      commitLagMs: lags.length ? { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags[lags.length - 1] } : null,
      lastError: c.lastError,
    };
  }

  private async run(): Promise<void> {
    const config = this.log.config;
    if (!config) return;
    while (!this.stopping) {
      try {
        const { js } = await this.log.client();
        const consumer = await js.consumers.get(config.stream, config.consumer);
        // Pulled ahead: at most PULL_AHEAD batches wait in the client's buffer (memory stays bounded), the
        // iterator refills it while up to `limit` batches are being written.
        const messages = await consumer.consume({ max_messages: Math.min(this.limit, PULL_AHEAD) });
        this.messages = messages;
        if (this.stopping) await messages.close();
        for await (const m of messages) {
          const rows = this.decode(m);
          if (rows === null) continue;
          await this.slot();
          if (this.stopping) {
            // Taken from the log but not started: hand it straight back.
            m.nak();
            continue;
          }
          this.inFlight++;
          this.inFlightRows += rows.length;
          void this.handle(m, rows);
        }
      } catch (error) {
        this.noteError(error);
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Waits while `limit` batches or `rowLimit` rows are being written. */
  private async slot(): Promise<void> {
    while ((this.inFlight >= this.limit || this.inFlightRows >= this.rowLimit) && !this.stopping) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  /** The batch's rows, or null (terminated, logged) when it is not something the collector wrote: the log keeps moving. */
  private decode(m: JsMsg): EventRow[] | null {
    try {
      return decodeBatch(m.data);
    } catch (error) {
      this.counters.unreadable++;
      this.logger.error(`terminating unreadable batch (stream seq ${m.seq}): ${error instanceof Error ? error.message : String(error)}`);
      m.term();
      return null;
    }
  }

  private async handle(m: JsMsg, rows: EventRow[]): Promise<void> {
    // Tell JetStream this writer still has the batch while a commit waits (database down, full queue): no redelivery meanwhile.
    const working = setInterval(() => m.working(), Math.max(1000, Math.floor(this.ackWaitMs / 3)));
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await this.writer.write(rows, true);
          // Only now: the rows are committed (or were already stored).
          m.ack();
          const c = this.counters;
          c.messages++;
          c.events += result.accepted;
          c.duplicates += result.duplicates;
          c.lastCommitAt = new Date();
          this.sampleLag(Date.now() - Number(m.timestampNanos / 1_000_000n));
          return;
        } catch (error) {
          this.counters.retries++;
          this.noteError(error);
          if (this.stopping) {
            // The writer is closing: another writer (or this one after its restart) takes it.
            m.nak();
            return;
          }
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
        }
      }
    } finally {
      clearInterval(working);
      this.inFlight--;
      this.inFlightRows -= rows.length;
      this.slotWaiters.shift()?.();
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private sampleLag(ms: number): void {
    if (this.lags.length < LAG_SAMPLES) this.lags.push(ms);
    else this.lags[this.lagNext] = ms;
    this.lagNext = (this.lagNext + 1) % LAG_SAMPLES;
  }

  private noteError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.counters.lastError) this.logger.warn(`event log writer: ${message}`);
    this.counters.lastError = message;
  }
}
