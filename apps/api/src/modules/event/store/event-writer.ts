import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config';
import { DATABASE_URL } from '../../../database/database.module';
import { EventPartitions, utcDay } from './event-partitions';
import type { EventRow } from './event-row';
import { isDatabaseUnavailable } from '../../../common/errors/postgres-errors';
import { FirstExposureCache, isRetryableError, WriterConnection } from './event-store';
import { EventsUnavailableException } from '../event.exception';
import { Telemetry } from '../../telemetry/telemetry';

/** What one submitted batch became: newly stored, or already stored (earlier, or earlier in the same group). */
export interface WriteResult {
  accepted: number;
  duplicates: number;
}

interface Pending {
  rows: EventRow[];
  /** performance.now() when queued: the commit lag in the metrics. */
  queuedAt: number;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

export interface WriterOptions {
  queueMax: number;
  batchMax: number;
  /** Transactions in flight at once (each on its own connection). */
  concurrency: number;
}

/**
 * The collector's writer (group commit). Requests enqueue validated rows and wait; each free
 * connection takes its share of what is queued (up to `batchMax` rows) as one group and writes it
 * in ONE transaction — the ids COPYed into the `event_ids` ledger (the dedup), the new events
 * COPYed into `events`, the earliest exposure per (experiment, unit) upserted (see
 * event-store.ts) — and only after COMMIT resolves every waiting request. Up to `concurrency`
 * groups are in flight at once. Sharing matters when clients wait for their answer before sending
 * more (every SDK does): one connection taking the whole queue would leave the others idle until
 * it commits, and the clients have nothing else to send in the meantime.
 *
 * Hot path. It must not: acknowledge anything before COMMIT returns (a 2xx means durable); accept
 * into an unbounded queue (full → 503); keep going silently when the database is down (→ 503, and
 * the next group reconnects); read configuration from the database.
 */
@Injectable()
export class EventWriter implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('event-writer');
  private readonly options: WriterOptions;
  private readonly partitions: EventPartitions;
  /** Connections not writing right now. */
  private readonly free: WriterConnection[] = [];
  private readonly all: WriterConnection[] = [];
  private queue: Pending[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  private closing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  private spaceWaiters: (() => void)[] = [];
  /** After a connection failure, fail fast (503) until this time instead of queueing doomed work. */
  private downUntil = 0;
  private maintenance: NodeJS.Timeout | null = null;
  private readonly pruneLedger: boolean;
  readonly counters = { transactions: 0, rows: 0, lastError: null as string | null, lastErrorAt: null as Date | null };

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(Telemetry) private readonly telemetry: Telemetry | null = null,
  ) {
    this.options = { queueMax: config.events.queueMax, batchMax: config.events.batchMax, concurrency: config.events.writers };
    this.pruneLedger = config.jobsEnabled;
    this.partitions = new EventPartitions(this.logger);
    const firstExposures = new FirstExposureCache(config.events.firstExposureCache);
    for (let i = 0; i < this.options.concurrency; i++) this.all.push(new WriterConnection(databaseUrl, this.partitions, firstExposures));
    this.free.push(...this.all);
  }

  async onModuleInit(): Promise<void> {
    await this.maintainPartitions().catch((error: unknown) => this.logger.warn(`partition upkeep failed: ${String(error)}`));
    // Daily partitions ahead of time (hourly check, cheap when they exist); on-demand creation covers the rest.
    this.maintenance = setInterval(() => {
      void this.maintainPartitions().catch((error: unknown) => this.logger.warn(`partition upkeep failed: ${String(error)}`));
    }, 3600_000);
    this.maintenance.unref();
  }

  /** Stop accepting, then wait until everything already queued is committed (or failed). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.idle;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.maintenance) clearInterval(this.maintenance);
    await this.idle;
    await Promise.all(this.all.map((c) => c.end()));
  }

  get queueDepth(): number {
    return this.queuedRows;
  }

  get queueMax(): number {
    return this.options.queueMax;
  }

  /**
   * Queues rows and resolves once they are committed. Throws EventsUnavailableException (503) when
   * the queue is full, the database is down or the process is shutting down. With `waitForSpace`
   * (imports), a full queue is waited out instead of refused.
   */
  async write(rows: EventRow[], waitForSpace = false): Promise<WriteResult> {
    if (rows.length === 0) return { accepted: 0, duplicates: 0 };
    for (;;) {
      if (this.closing) throw new EventsUnavailableException('shutting_down', 5);
      if (Date.now() < this.downUntil) throw new EventsUnavailableException('database_unavailable', 1);
      if (this.queuedRows === 0 || this.queuedRows + rows.length <= this.options.queueMax) break;
      if (!waitForSpace) throw new EventsUnavailableException('queue_full', 1);
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ rows, queuedAt: performance.now(), resolve, reject });
      this.queuedRows += rows.length;
      if (this.inFlight === 0 && this.queue.length === 1) this.idle = new Promise<void>((r) => (this.markIdle = r));
      // Let the requests arriving in this turn of the event loop join the same group.
      setImmediate(() => this.pump());
    });
  }

  /** Creates the daily partitions from 8 days back to 2 days ahead (idempotent) and prunes the id ledger (when jobs run). */
  async maintainPartitions(now = Date.now()): Promise<void> {
    const today = utcDay(now);
    const days: number[] = [];
    for (let d = today - 8; d <= today + 2; d++) days.push(d);
    // Its own short connection: the writer connections may be inside a transaction right now.
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'strata-partitions', connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await this.partitions.ensure(client, days);
      // Ids are kept 8 days: longer than the 7-day timestamp window, so a late retry is still recognised.
      if (this.pruneLedger) await client.query(`DELETE FROM event_ids WHERE received_at < now() - interval '8 days'`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Start a group on every free connection while there is work. */
  private pump(): void {
    while (this.queue.length > 0 && this.free.length > 0) {
      // Share what is queued among the free connections, so a burst keeps every connection busy.
      const limit = Math.min(this.options.batchMax, Math.ceil(this.queuedRows / this.free.length));
      const conn = this.free.pop() as WriterConnection;
      const group = this.takeGroup(limit);
      this.inFlight++;
      void this.writeGroup(conn, group).finally(() => {
        this.inFlight--;
        this.free.push(conn);
        this.wakeSpaceWaiters();
        if (this.queue.length > 0) this.pump();
        else if (this.inFlight === 0) this.markIdle();
      });
    }
  }

  /** The queued requests from the front, up to `limit` rows (at least one request, whatever its size). */
  private takeGroup(limit: number): Pending[] {
    let rows = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || rows + this.queue[n].rows.length <= limit)) {
      rows += this.queue[n].rows.length;
      n++;
    }
    const group = this.queue.splice(0, n);
    this.queuedRows -= rows;
    return group;
  }

  private wakeSpaceWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  private async writeGroup(conn: WriterConnection, group: Pending[], attempt = 1): Promise<void> {
    try {
      const results = await this.commit(conn, group);
      group.forEach((p, i) => p.resolve(results[i]));
    } catch (error) {
      conn.drop();
      if (isDatabaseUnavailable(error)) {
        this.noteError(error);
        this.downUntil = Date.now() + 1000;
        // Nothing queued can be written now either: answer 503 at once rather than after a timeout.
        const failed = [...group, ...this.queue.splice(0)];
        this.queuedRows = 0;
        for (const p of failed) p.reject(new EventsUnavailableException('database_unavailable', 1));
        return;
      }
      if (isRetryableError(error) && attempt < 5) return this.writeGroup(conn, group, attempt + 1);
      this.noteError(error);
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      // A non-connection failure (should not happen: rows are validated). Isolate the culprit so the others still commit.
      for (const p of group) await this.writeGroup(conn, [p], attempt);
    }
  }

  private noteError(error: unknown): void {
    this.counters.lastError = error instanceof Error ? error.message : String(error);
    this.counters.lastErrorAt = new Date();
    this.logger.warn(`event write failed: ${this.counters.lastError}`);
  }

  /** One transaction for the whole group; returns each request's result. */
  private async commit(conn: WriterConnection, group: Pending[]): Promise<WriteResult[]> {
    // An id repeated within the group is a duplicate of its first occurrence: settle it here, send each id once.
    const seen = new Set<string>();
    const staged: EventRow[] = [];
    const owner: number[] = [];
    const duplicates = new Array<number>(group.length).fill(0);
    const days = new Set<number>();
    group.forEach((p, i) => {
      for (const r of p.rows) {
        if (seen.has(r.id)) {
          duplicates[i]++;
          continue;
        }
        seen.add(r.id);
        staged.push(r);
        owner.push(i);
        days.add(utcDay(r.ts));
      }
    });
    const started = performance.now();
    const known = await conn.commit(staged, days);
    if (this.telemetry) {
      const now = performance.now();
      this.telemetry.observeWriterGroup(staged.length, (now - started) / 1000, (now - group[0].queuedAt) / 1000);
    }
    for (const seq of known) duplicates[owner[seq]]++;
    this.counters.transactions++;
    this.counters.rows += staged.length;
    return group.map((p, i) => ({ accepted: p.rows.length - duplicates[i], duplicates: duplicates[i] }));
  }
}
