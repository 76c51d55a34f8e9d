import { once } from 'node:events';
import type { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, partitionFor, STAGE_COLUMNS, type EventRow } from './event-row';

/*
 * One statement per group. Ids are unique in the stage (the writer settles repeats within a group),
 * so: claim the new ids in the ledger (ON CONFLICT: concurrent writers and retries), store the events
 * whose id was new, keep the earliest exposure per (experiment, unit), and return the stage rows
 * whose id was already known (duplicates) — usually none, so the answer is tiny. Ids and
 * (experiment, unit) keys are taken in sorted order, so concurrent transactions lock in one order.
 */
const MERGE_SQL = `
WITH new_ids AS (
  INSERT INTO event_ids (id, received_at)
  SELECT id, received_at FROM event_stage ORDER BY id
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

/** Deadlock or serialization failure: nothing was written, the same group can simply run again. */
export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001';
}

/** Daily partitions known to exist (shared by every connection of the process). */
export class EventPartitions {
  private readonly known = new Set<number>();

  constructor(private readonly logger: Logger) {}

  async ensure(client: Client, days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.known.has(day)) continue;
      const p = partitionFor(day);
      try {
        // Names and bounds come from a day number, never from user input.
        await client.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF events FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
      } catch (error) {
        if (isConnectionError(error)) throw error;
        // A concurrent creator won, or the DEFAULT partition already holds rows of that day (they stay there).
        this.logger.warn(`partition ${p.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.known.add(day);
    }
  }
}

/**
 * One writer connection with its own temp staging table. `commit(rows)` writes rows with unique
 * ids in one transaction and returns the positions of those whose id was already stored.
 */
export class StageConnection {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;

  constructor(
    private readonly url: string,
    private readonly partitions: EventPartitions,
  ) {}

  async commit(rows: readonly EventRow[], days: Iterable<number>): Promise<number[]> {
    const client = await this.connect();
    await this.partitions.ensure(client, days);
    await client.query('BEGIN');
    try {
      await this.copy(client, rows);
      const known = await client.query<{ seq: number }>(MERGE_SQL);
      // No ack before this COMMIT returns: a 2xx promises the events are durable.
      await client.query('COMMIT');
      return known.rows.map((r) => r.seq);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Forget the connection (after an error its state is unknown); the next commit reconnects. */
  drop(): void {
    const client = this.client;
    this.client = null;
    if (client) void client.end().catch(() => undefined);
  }

  async end(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  /** COPY the rows into the stage, encoding chunk by chunk so PostgreSQL parses while we encode. */
  private async copy(client: Client, rows: readonly EventRow[]): Promise<void> {
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

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      const client = new Client({ connectionString: this.url, application_name: 'strata-collector', connectionTimeoutMillis: 3000 });
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
}
