import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-variant sufficient statistics of an experiment, kept with the rollup version they were
 * computed from. `analysis_watermarks.rows_version` goes up whenever a rollup step changes rows
 * (not when it only moves the watermark), so a results request whose rollup is current reads one
 * row here instead of aggregating every unit's rollup rows again (seconds at 1M units); the same
 * for the time series' per-day changes (`kind`).
 * Derivable from the rollups at any time; a stale or missing row is simply recomputed.
 */
export class CreateAnalysisAggregates1764003001000 implements MigrationInterface {
  name = 'CreateAnalysisAggregates1764003001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE analysis_watermarks ADD COLUMN rows_version bigint NOT NULL DEFAULT 0');
    await q.query(`
      CREATE TABLE analysis_aggregates (
        experiment_key text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('results', 'timeseries')),
        rows_version bigint NOT NULL,
        params_hash text NOT NULL,
        aggregates jsonb NOT NULL,
        computed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (experiment_key, kind)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE analysis_aggregates');
    await q.query('ALTER TABLE analysis_watermarks DROP COLUMN rows_version');
  }
}
