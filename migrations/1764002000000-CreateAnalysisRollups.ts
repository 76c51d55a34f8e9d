import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Incremental analysis state. Raw events are read once per unit change, not once per results
 * request: `unit_metric_daily` holds per unit × metric × UTC event day sums (for time series),
 * `unit_metric_rollups` per unit × metric totals plus the pre-exposure covariate (for results),
 * and `analysis_watermarks` says up to which `events.received_at` each experiment is rolled up.
 * `received_at` (not event time) is the watermark because events may arrive up to 7 days late.
 */
export class CreateAnalysisRollups1764002000000 implements MigrationInterface {
  name = 'CreateAnalysisRollups1764002000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE analysis_watermarks (
        experiment_key text PRIMARY KEY,
        watermark timestamptz NOT NULL,
        definition_hash text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE unit_metric_rollups (
        experiment_key text NOT NULL,
        metric_key text NOT NULL,
        unit_id text NOT NULL,
        variant_key text NOT NULL,
        first_ts timestamptz NOT NULL,
        value double precision NOT NULL DEFAULT 0,
        value_den double precision NOT NULL DEFAULT 0,
        event_count bigint NOT NULL DEFAULT 0,
        pre_value double precision NOT NULL DEFAULT 0,
        pre_event_count bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (experiment_key, metric_key, unit_id)
      ) WITH (fillfactor = 90)`);
    await q.query(`
      CREATE TABLE unit_metric_daily (
        experiment_key text NOT NULL,
        metric_key text NOT NULL,
        unit_id text NOT NULL,
        day date NOT NULL,
        variant_key text NOT NULL,
        value double precision NOT NULL DEFAULT 0,
        value_den double precision NOT NULL DEFAULT 0,
        event_count bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (experiment_key, metric_key, unit_id, day)
      )`);
    // Dirty units are deleted and rebuilt by (experiment, unit) across all metrics.
    await q.query('CREATE INDEX unit_metric_daily_unit_idx ON unit_metric_daily (experiment_key, unit_id)');
    await q.query('CREATE INDEX unit_metric_rollups_unit_idx ON unit_metric_rollups (experiment_key, unit_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE unit_metric_daily');
    await q.query('DROP TABLE unit_metric_rollups');
    await q.query('DROP TABLE analysis_watermarks');
  }
}
