import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holdouts (#17): a share of units, by the holdout's own salt, kept out of every experiment of
 * some layers (`layer_keys`; null = every layer). Its comparison's statistics live in the analysis
 * engine's tables under the key `holdout:<key>`, like an experiment's.
 */
export class CreateHoldouts1764120000000 implements MigrationInterface {
  name = 'CreateHoldouts1764120000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE holdouts (
        key text PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        salt text NOT NULL,
        share double precision NOT NULL CHECK (share > 0 AND share <= 0.5),
        layer_keys text[],
        metric_keys text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE holdouts');
    // The comparison's stored statistics go with the holdouts.
    for (const table of ['analysis_stats', 'unit_metric_rollups', 'unit_metric_daily', 'analysis_units', 'analysis_caps', 'analysis_watermarks', 'analysis_sequential_state', 'first_exposures']) {
      await q.query(`DELETE FROM ${table} WHERE experiment_key LIKE 'holdout:%'`);
    }
  }
}
