import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event storage: `events` partitioned by event day (UTC), the `event_ids` dedup ledger and
 * `first_exposures` (earliest exposure per experiment and unit), maintained at ingest.
 * Daily partitions are created by the collector (ahead of time and on demand); the DEFAULT
 * partition is only a safety net so a write never fails for want of one.
 */
export class CreateEvents1764001000000 implements MigrationInterface {
  name = 'CreateEvents1764001000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id uuid NOT NULL,
        type text NOT NULL CHECK (type IN ('exposure', 'metric')),
        unit_id text NOT NULL,
        experiment_key text,
        variant_key text,
        name text,
        value double precision,
        ts timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        attributes jsonb,
        api_key_id uuid
      ) PARTITION BY RANGE (ts)`);
    await q.query('CREATE TABLE events_default PARTITION OF events DEFAULT');
    await q.query(`CREATE INDEX events_metric_idx ON events (name, unit_id, ts) WHERE type = 'metric'`);
    await q.query(`CREATE INDEX events_exposure_idx ON events (experiment_key, unit_id) WHERE type = 'exposure'`);
    await q.query('CREATE INDEX events_received_at_idx ON events (received_at)');
    await q.query(`
      CREATE TABLE event_ids (
        id uuid PRIMARY KEY,
        received_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX event_ids_received_at_idx ON event_ids (received_at)');
    await q.query(`
      CREATE TABLE first_exposures (
        experiment_key text NOT NULL,
        unit_id text NOT NULL,
        variant_key text NOT NULL,
        first_ts timestamptz NOT NULL,
        attributes jsonb,
        forced boolean NOT NULL DEFAULT false,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (experiment_key, unit_id)
      )`);
    await q.query('CREATE INDEX first_exposures_experiment_ts_idx ON first_exposures (experiment_key, first_ts)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE first_exposures');
    await q.query('DROP TABLE event_ids');
    // Dropping the parent drops every partition.
    await q.query('DROP TABLE events');
  }
}
