import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The continuous analysis engine (apps/api/src/modules/analysis, docs/analysis.md):
 * - `analysis_engine_state`: ONE global watermark on events.received_at for every experiment
 *   (shard 0; the key leaves room for a few shards), moved only by a tick that found something.
 * - `analysis_units`: the engine's copy of the counted population (non-forced first exposures as of
 *   the watermark) with each unit's segment values, keyed by unit first so a tick joins new events
 *   to every experiment's units at once.
 * - `analysis_stats`: per-variant sufficient statistics (numeric: sums of exact deltas stay exact)
 *   per experiment × slice × metric × variant. Slices: dim '' (the whole experiment), dim 'day'
 *   (per-UTC-day changes, for the time series) and one dim per declared segment dimension.
 *   metric '' holds unit counts.
 * - `analysis_caps`: winsorization caps, frozen between scheduled recomputations.
 * - `analysis_sequential_state`: room for monotone sequential state kept by per-tick consumers.
 * The per-request aggregate cache `analysis_aggregates` goes: reads are keyed reads of the stats.
 */
export class CreateAnalysisEngine1764100000000 implements MigrationInterface {
  name = 'CreateAnalysisEngine1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE analysis_engine_state (
        shard smallint PRIMARY KEY,
        watermark timestamptz NOT NULL,
        ticks bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE analysis_units (
        unit_id text NOT NULL,
        experiment_key text NOT NULL,
        variant_key text NOT NULL,
        first_ts timestamptz NOT NULL,
        segments jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (unit_id, experiment_key)
      )`);
    await q.query('CREATE INDEX analysis_units_experiment_idx ON analysis_units (experiment_key, unit_id)');
    await q.query(`
      CREATE TABLE analysis_stats (
        experiment_key text NOT NULL,
        dim text NOT NULL,
        val text NOT NULL,
        metric_key text NOT NULL,
        variant_key text NOT NULL,
        n bigint NOT NULL DEFAULT 0,
        sum numeric NOT NULL DEFAULT 0,
        sum_sq numeric NOT NULL DEFAULT 0,
        cov_sum numeric NOT NULL DEFAULT 0,
        cov_sum_sq numeric NOT NULL DEFAULT 0,
        cross_sum numeric NOT NULL DEFAULT 0,
        sum_den numeric NOT NULL DEFAULT 0,
        sum_den_sq numeric NOT NULL DEFAULT 0,
        sum_num_den numeric NOT NULL DEFAULT 0,
        PRIMARY KEY (experiment_key, dim, val, metric_key, variant_key)
      ) WITH (fillfactor = 80)`);
    await q.query(`
      CREATE TABLE analysis_caps (
        experiment_key text NOT NULL,
        metric_key text NOT NULL,
        percentile double precision NOT NULL,
        y_cap double precision,
        c_cap double precision,
        units bigint NOT NULL,
        rows_version bigint NOT NULL,
        computed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (experiment_key, metric_key)
      )`);
    await q.query(`
      CREATE TABLE analysis_sequential_state (
        experiment_key text NOT NULL,
        metric_key text NOT NULL,
        variant_key text NOT NULL,
        config_hash text NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (experiment_key, metric_key, variant_key, config_hash)
      )`);
    await q.query('DROP TABLE analysis_aggregates');
  }

  async down(q: QueryRunner): Promise<void> {
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
    await q.query('DROP TABLE analysis_sequential_state');
    await q.query('DROP TABLE analysis_caps');
    await q.query('DROP TABLE analysis_stats');
    await q.query('DROP TABLE analysis_units');
    await q.query('DROP TABLE analysis_engine_state');
  }
}
