import { Client } from 'pg';
import { isUniqueViolation } from '../../../common/errors/postgres-errors';
import { copyBinary } from './copy-binary';
import { EventPartitions, utcDay } from './event-partitions';
import { EVENT_COLUMNS, writeEventRow, writeLedgerRow, type EventRow } from './event-row';

/*
 * A group is written with binary COPYs and (when it holds new exposures) one small upsert, in one
 * transaction:
 *   1. COPY the ids into the `event_ids` ledger. Its primary key is the dedup: a retried id fails
 *      the COPY with a unique violation. That is rare, so the first attempt looks nothing up; on a
 *      violation the transaction is rolled back and redone with the ids already stored looked up
 *      first (KNOWN_IDS_SQL) and left out — exactly the duplicates. (Two writers claiming the same
 *      ids in opposite orders can deadlock; PostgreSQL then aborts one and the writer retries it.)
 *   2. COPY the new events straight into their day partitions (`events` itself routes the rows of
 *      a day whose partition could not be created).
 *   3. Upsert the earliest new exposure per (experiment, unit) into `first_exposures`, leaving out
 *      those known not to be earlier (FirstExposureCache) or found not to be (NOT EXISTS: an index
 *      probe is cheaper than a conflicting upsert, which locks the row).
 * Nothing is staged: every row is parsed by PostgreSQL once, into the table it ends up in.
 */
const KNOWN_IDS_SQL = 'SELECT id::text AS id FROM event_ids WHERE id = ANY($1::uuid[])';

const FIRST_EXPOSURES_SQL = `
INSERT INTO first_exposures AS f (experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at)
SELECT x.experiment_key, x.unit_id, x.variant_key, x.first_ts, x.attributes, x.forced, x.received_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::boolean[], $7::timestamptz[])
       AS x(experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at)
 WHERE NOT EXISTS (SELECT 1 FROM first_exposures e WHERE e.experiment_key = x.experiment_key AND e.unit_id = x.unit_id AND e.first_ts <= x.first_ts)
ON CONFLICT (experiment_key, unit_id) DO UPDATE
   SET variant_key = excluded.variant_key, first_ts = excluded.first_ts, attributes = excluded.attributes,
       forced = excluded.forced, received_at = excluded.received_at
 WHERE excluded.first_ts < f.first_ts`;

/** application_name of the collector's connections: the analysis watermark waits for their open transactions. */
export const COLLECTOR_APPLICATION_NAME = 'strata-collector';

/** The transaction's start (now()) in epoch milliseconds, rounded up: never earlier than pg_stat_activity.xact_start. */
const RECEIVED_AT_SQL = 'SELECT ceil(extract(epoch FROM now()) * 1000)::float8 AS ms';

/** Attempts of one group against concurrent writers claiming the same ids (each attempt looks them up anew). */
const CLAIM_ATTEMPTS = 5;

/** Deadlock or serialization failure: nothing was written, the same group can simply run again. */
export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Per process: (experiment, unit) → a time at or after its stored first exposure. `first_ts` only
 * ever moves earlier, so an entry stays an upper bound whatever other writers or processes store
 * later; an exposure at or after it cannot be a new first exposure and is not sent to the
 * database at all. Filled only after COMMIT. Bounded: the oldest entries are forgotten first
 * (forgetting costs an index probe, never correctness).
 */
export class FirstExposureCache {
  private readonly times = new Map<string, number>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.times.size;
  }

  /** True when the stored first exposure of `key` is known to be at or before `ts`. */
  covers(key: string, ts: number): boolean {
    const known = this.times.get(key);
    return known !== undefined && known <= ts;
  }

  /** After COMMIT: the stored first exposure of `key` is now at or before `ts`. */
  remember(key: string, ts: number): void {
    if (this.max <= 0) return;
    const known = this.times.get(key);
    if (known !== undefined) {
      if (ts < known) this.times.set(key, ts);
      return;
    }
    if (this.times.size >= this.max) this.times.delete(this.times.keys().next().value as string);
    this.times.set(key, ts);
  }
}

/** The earliest new exposure per (experiment, unit) of a group, sorted by key (lock order). */
export interface FirstExposureCandidate {
  key: string;
  row: EventRow;
}

/** Cache key of an (experiment, unit); NUL cannot occur in either (validation refuses it). */
export function firstExposureKey(experimentKey: string, unitId: string): string {
  return `${experimentKey}\u0000${unitId}`;
}

/** The exposures among `rows` (positions `keep`) that may be earlier than what is stored: earliest per key, first wins ties. */
export function firstExposureCandidates(rows: readonly EventRow[], keep: readonly number[], cache: FirstExposureCache): FirstExposureCandidate[] {
  const best = new Map<string, EventRow>();
  for (const i of keep) {
    const r = rows[i];
    if (r.type !== 'exposure' || r.experimentKey === null || r.variantKey === null) continue;
    const key = firstExposureKey(r.experimentKey, r.unitId);
    if (cache.covers(key, r.ts)) continue;
    const current = best.get(key);
    if (current === undefined || r.ts < current.ts) best.set(key, r);
  }
  const out: FirstExposureCandidate[] = [];
  for (const [key, row] of best) out.push({ key, row });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * One writer connection. `commit(rows)` writes rows with unique ids in one transaction and
 * returns the positions of those whose id was already stored (duplicates).
 */
export class WriterConnection {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;

  constructor(
    private readonly url: string,
    private readonly partitions: EventPartitions,
    private readonly firstExposures: FirstExposureCache,
  ) {}

  async commit(rows: readonly EventRow[], days: Iterable<number>): Promise<number[]> {
    const client = await this.connect();
    await this.partitions.ensure(client, days);
    for (let attempt = 1; ; attempt++) {
      await client.query('BEGIN');
      try {
        // received_at is this transaction's start on PostgreSQL's clock (rounded up to the ms), not
        // the moment Node accepted the event: the analysis watermark stays behind the start of every
        // open collector transaction (the safe time of AnalysisEngineService.probe), so no row can commit behind it.
        // The only place received_at is set: rows arrive without one (EventRow) and are stamped as they are encoded.
        const began = await client.query<{ ms: number }>(RECEIVED_AT_SQL);
        const receivedAt = began.rows[0].ms;
        // First attempt: claim every id blind (retries are rare). Later attempts: leave out the ids already stored.
        const known = attempt === 1 ? new Set<number>() : await this.knownIds(client, rows);
        const keep: number[] = [];
        for (let i = 0; i < rows.length; i++) if (!known.has(i)) keep.push(i);
        await copyBinary(client, 'COPY event_ids (id, received_at) FROM STDIN (FORMAT binary)', keep, (w, i) => writeLedgerRow(w, rows[i], receivedAt));
        for (const [table, positions] of this.byTable(rows, keep)) {
          await copyBinary(client, `COPY ${table} (${EVENT_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`, positions, (w, i) => writeEventRow(w, rows[i], receivedAt));
        }
        const firsts = firstExposureCandidates(rows, keep, this.firstExposures);
        if (firsts.length > 0) await client.query(FIRST_EXPOSURES_SQL, firstExposureParams(firsts, receivedAt));
        // No ack before this COMMIT returns: a 2xx promises the events are durable.
        await client.query('COMMIT');
        for (const f of firsts) this.firstExposures.remember(f.key, f.row.ts);
        return [...known];
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (isUniqueViolation(error) && attempt < CLAIM_ATTEMPTS) continue;
        throw error;
      }
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

  /** Positions of the rows whose id is already in the ledger. */
  private async knownIds(client: Client, rows: readonly EventRow[]): Promise<Set<number>> {
    const result = await client.query<{ id: string }>(KNOWN_IDS_SQL, [rows.map((r) => r.id)]);
    const stored = new Set(result.rows.map((r) => r.id));
    const known = new Set<number>();
    rows.forEach((r, i) => {
      if (stored.has(r.id.toLowerCase())) known.add(i);
    });
    return known;
  }

  /** The rows at `positions` by the table they are COPYed into (their day's partition). */
  private byTable(rows: readonly EventRow[], positions: readonly number[]): Map<string, number[]> {
    const out = new Map<string, number[]>();
    let lastDay = Number.NaN;
    let list: number[] = [];
    for (const i of positions) {
      const day = utcDay(rows[i].ts);
      if (day !== lastDay) {
        lastDay = day;
        const table = this.partitions.tableFor(day);
        list = out.get(table) ?? [];
        out.set(table, list);
      }
      list.push(i);
    }
    return out;
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      const client = new Client({ connectionString: this.url, application_name: COLLECTOR_APPLICATION_NAME, connectionTimeoutMillis: 3000 });
      client.on('error', () => {
        if (this.client === client) this.client = null;
      });
      try {
        await client.connect();
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

/** The upsert's parameters: one array per column; `receivedAt` is the transaction's. */
function firstExposureParams(firsts: readonly FirstExposureCandidate[], receivedAt: number): unknown[] {
  const n = firsts.length;
  const experiment = new Array<string>(n);
  const unit = new Array<string>(n);
  const variant = new Array<string>(n);
  const ts = new Array<string>(n);
  const attributes = new Array<string | null>(n);
  const forced = new Array<boolean>(n);
  const received = new Array<string>(n).fill(new Date(receivedAt).toISOString());
  firsts.forEach(({ row }, i) => {
    experiment[i] = row.experimentKey as string;
    unit[i] = row.unitId;
    variant[i] = row.variantKey as string;
    ts[i] = new Date(row.ts).toISOString();
    attributes[i] = row.attributes;
    forced[i] = row.forced;
  });
  return [experiment, unit, variant, ts, attributes, forced, received];
}
