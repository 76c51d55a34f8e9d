import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { DATABASE_URL } from '../../database/database.module';
import { copyLine, partitionFor, STAGE_COLUMNS, utcDay, type EventRow } from './event-row';
import { EventsUnavailableException } from './event.exception';

/** What one submitted batch became: newly stored, or already stored (earlier, or earlier in the same group). */
export interface WriteResult {
  accepted: number;
  duplicates: number;
}

/** An exposure logged by the server itself (e.g. `/v1/assign`): trusted, not re-validated against the catalog. */
export interface ExposureRecord {
  unitId: string;
  experiment: string;
  variant: string;
  /** Event id for dedup; a server id (uuid v4) when absent. */
  id?: string;
  /** Event time, epoch ms or Date; now when absent. */
  timestamp?: number | Date;
  attributes?: Record<string, unknown> | null;
  forced?: boolean;
}

interface Pending {
  rows: EventRow[];
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

export interface WriterOptions {
  queueMax: number;
  batchMax: number;
}

/*
 * One statement per group. Ids are unique in the stage (the writer settles repeats within a group),
 * so: claim the new ids in the ledger (ON CONFLICT: concurrent writers and retries), store the events
 * whose id was new, keep the earliest exposure per (experiment, unit), and return the stage rows
 * whose id was already known (duplicates) — usually none, so the answer is tiny.
 */
const MERGE_SQL = `
WITH new_ids AS (
  INSERT INTO event_ids (id, received_at)
  SELECT id, received_at FROM event_stage
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), winners AS (
  SELECT s.* FROM event_stage s JOIN new_ids n ON n.id = s.id
), stored AS (
  INSERT INTO events (id, type, unit_id, experiment_key, variant_key, name, value, ts, received_at, attributes, api_key_id)
  SELECT id, type, unit_id, experiment_key, variant_key, name, value, ts, received_at, attributes, api_key_id FROM winners
), firsts AS (
  INSERT INTO first_exposures AS f (experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at)
  SELECT DISTINCT ON (experiment_key, unit_id) experiment_key, unit_id, variant_key, ts, attributes, forced, received_at
  FROM winners w WHERE type = 'exposure'
    -- Skip exposures that cannot be earlier than the stored one (a plain index probe is cheaper than a conflicting upsert).
    AND NOT EXISTS (SELECT 1 FROM first_exposures e WHERE e.experiment_key = w.experiment_key AND e.unit_id = w.unit_id AND e.first_ts <= w.ts)
  ORDER BY experiment_key, unit_id, ts, seq
  ON CONFLICT (experiment_key, unit_id) DO UPDATE
    SET variant_key = excluded.variant_key, first_ts = excluded.first_ts, attributes = excluded.attributes,
        forced = excluded.forced, received_at = excluded.received_at
    WHERE excluded.first_ts < f.first_ts
)
SELECT s.seq FROM event_stage s WHERE NOT EXISTS (SELECT 1 FROM new_ids n WHERE n.id = s.id)`;

const STAGE_DDL = `
CREATE TEMP TABLE IF NOT EXISTS event_stage (
  seq int NOT NULL, id uuid NOT NULL, type text NOT NULL, unit_id text NOT NULL, experiment_key text, variant_key text,
  name text, value double precision, ts timestamptz NOT NULL, received_at timestamptz NOT NULL, attributes jsonb,
  api_key_id uuid, forced boolean NOT NULL
) ON COMMIT DELETE ROWS`;

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Lost or refused connections, server shutdown, too many clients: the database is unavailable, not the data bad. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code.startsWith('53')) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|not queryable|Client has encountered a connection error|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(message);
}

/**
 * The collector's single writer (group commit). Requests enqueue validated rows and wait; one loop
 * takes everything queued (up to `batchMax` rows), writes it in ONE transaction — COPY into a temp
 * staging table, then one INSERT…SELECT that dedups against the `event_ids` ledger, stores the new
 * events and keeps the earliest exposure per (experiment, unit) — and only after COMMIT resolves every
 * waiting request.
 *
 * Hot path. It must not: acknowledge anything before COMMIT returns (a 2xx means durable); accept
 * into an unbounded queue (full → 503); keep going silently when the database is down (→ 503, and
 * the next batch reconnects); read configuration from the database.
 */
@Injectable()
export class EventWriter implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('event-writer');
  private readonly options: WriterOptions;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running = false;
  private closing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  private spaceWaiters: (() => void)[] = [];
  /** After a connection failure, fail fast (503) until this time instead of queueing doomed work. */
  private downUntil = 0;
  private readonly partitions = new Set<number>();
  private maintenance: NodeJS.Timeout | null = null;
  readonly counters = { transactions: 0, rows: 0, lastError: null as string | null, lastErrorAt: null as Date | null };

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.options = { queueMax: config.events.queueMax, batchMax: config.events.batchMax };
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
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
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
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.kick();
    });
  }

  /** Server-side exposures (e.g. from `/v1/assign`), through the same durable, deduplicated path. */
  recordExposures(exposures: readonly ExposureRecord[], apiKeyId: string | null = null): Promise<WriteResult> {
    const now = Date.now();
    const rows = exposures.map((e): EventRow => ({
      id: e.id ?? randomUUID(),
      type: 'exposure',
      unitId: e.unitId,
      experimentKey: e.experiment,
      variantKey: e.variant,
      name: null,
      value: null,
      ts: e.timestamp === undefined ? now : typeof e.timestamp === 'number' ? e.timestamp : e.timestamp.getTime(),
      receivedAt: now,
      attributes: e.attributes ? JSON.stringify(e.attributes) : null,
      apiKeyId,
      forced: e.forced ?? false,
    }));
    return this.write(rows);
  }

  /** Creates the daily partitions from 8 days back to 2 days ahead (idempotent). */
  async maintainPartitions(now = Date.now()): Promise<void> {
    const today = utcDay(now);
    const days: number[] = [];
    for (let d = today - 8; d <= today + 2; d++) days.push(d);
    // Its own short connection: the writer's connection may be inside a transaction right now.
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'strata-partitions', connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await this.ensurePartitions(client, days);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.idle = new Promise<void>((resolve) => (this.markIdle = resolve));
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        await this.writeGroup(group);
        this.wakeSpaceWaiters();
      }
    } finally {
      this.running = false;
      this.wakeSpaceWaiters();
      this.markIdle();
    }
  }

  /** Everything queued, up to `batchMax` rows (at least one request, whatever its size). */
  private takeGroup(): Pending[] {
    let rows = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || rows + this.queue[n].rows.length <= this.options.batchMax)) {
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

  private async writeGroup(group: Pending[]): Promise<void> {
    try {
      const results = await this.commit(group);
      group.forEach((p, i) => p.resolve(results[i]));
    } catch (error) {
      if (isConnectionError(error)) {
        this.noteError(error);
        this.downUntil = Date.now() + 1000;
        this.dropClient();
        // Nothing queued can be written now either: answer 503 at once rather than after a timeout.
        const failed = [...group, ...this.queue.splice(0)];
        this.queuedRows = 0;
        for (const p of failed) p.reject(new EventsUnavailableException('database_unavailable', 1));
        return;
      }
      this.dropClient();
      if (group.length === 1) {
        this.noteError(error);
        group[0].reject(error);
        return;
      }
      // A non-connection failure (should not happen: rows are validated). Isolate the culprit so the others still commit.
      for (const p of group) await this.writeGroup([p]);
    }
  }

  private noteError(error: unknown): void {
    this.counters.lastError = error instanceof Error ? error.message : String(error);
    this.counters.lastErrorAt = new Date();
    this.logger.warn(`event write failed: ${this.counters.lastError}`);
  }

  /** One transaction for the whole group; returns each request's result. */
  private async commit(group: Pending[]): Promise<WriteResult[]> {
    const client = await this.connect();
    // An id repeated within the group is a duplicate of its first occurrence: settle it here, stage each id once.
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
    await this.ensurePartitions(client, [...days]);
    await client.query('BEGIN');
    try {
      await this.copy(client, staged);
      const known = await client.query<{ seq: number }>(MERGE_SQL);
      // No ack before this COMMIT returns: a 2xx promises the events are durable.
      await client.query('COMMIT');
      for (const { seq } of known.rows) duplicates[owner[seq]]++;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    this.counters.transactions++;
    this.counters.rows += staged.length;
    return group.map((p, i) => ({ accepted: p.rows.length - duplicates[i], duplicates: duplicates[i] }));
  }

  /** COPY the rows into the stage, encoding chunk by chunk so PostgreSQL parses while we encode. */
  private async copy(client: Client, rows: EventRow[]): Promise<void> {
    const stream = client.query(copyFrom(`COPY event_stage (${STAGE_COLUMNS.join(', ')}) FROM STDIN`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', resolve);
    });
    const CHUNK = 500;
    for (let i = 0; i < rows.length; i += CHUNK) {
      let text = '';
      const end = Math.min(rows.length, i + CHUNK);
      for (let j = i; j < end; j++) text += copyLine(j, rows[j]);
      if (!stream.write(text)) await Promise.race([once(stream, 'drain'), done]);
    }
    stream.end();
    await done;
  }

  private async ensurePartitions(client: Client, days: number[]): Promise<void> {
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      const p = partitionFor(day);
      try {
        // Names and bounds come from a day number, never from user input.
        await client.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF events FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
      } catch (error) {
        if (isConnectionError(error)) throw error;
        // A concurrent creator won, or the DEFAULT partition already holds rows of that day (they stay there).
        this.logger.warn(`partition ${p.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.partitions.add(day);
    }
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      const client = new Client({ connectionString: this.databaseUrl, application_name: 'strata-collector', connectionTimeoutMillis: 3000 });
      client.on('error', () => {
        if (this.client === client) this.client = null;
      });
      try {
        await client.connect();
        // The stage lives in local buffers (8 MB by default): room for a whole group avoids spilling to disk.
        await client.query(`SET temp_buffers = '64MB'`);
        await client.query(STAGE_DDL);
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      this.client = client;
      return client;
    })();
    try {
      return await this.connecting;
    } finally {
      this.connecting = null;
    }
  }

  private dropClient(): void {
    const client = this.client;
    this.client = null;
    if (client) void client.end().catch(() => undefined);
  }
}
