import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the incremental rollup step (apps/api/src/modules/result/rollup-sql.ts):
 * - `first_exposures (experiment_key, received_at)`: units whose exposure arrived since the
 *   watermark are found by an index range instead of scanning every unit of the experiment
 *   on each step (that scan made even an empty step cost ~1 s at 100k units).
 * - The `(experiment_key, unit_id)` indexes on the rollup tables go: the step no longer deletes
 *   and rebuilds every unit that received an event (it adds the new events' sums in place,
 *   by primary key), and the few deletes left (units whose exposure changed) use the primary
 *   key with `metric_key = ANY(…)`. Each index cost a random btree insert per rollup row.
 */
export class ChangeRollupIndexesForIncrementalAdvance1764003000000 implements MigrationInterface {
  name = 'ChangeRollupIndexesForIncrementalAdvance1764003000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX first_exposures_experiment_received_idx ON first_exposures (experiment_key, received_at)');
    await q.query('DROP INDEX unit_metric_daily_unit_idx');
    await q.query('DROP INDEX unit_metric_rollups_unit_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX unit_metric_rollups_unit_idx ON unit_metric_rollups (experiment_key, unit_id)');
    await q.query('CREATE INDEX unit_metric_daily_unit_idx ON unit_metric_daily (experiment_key, unit_id)');
    await q.query('DROP INDEX first_exposures_experiment_received_idx');
  }
}
