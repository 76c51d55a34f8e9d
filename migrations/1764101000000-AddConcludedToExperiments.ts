import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A shipped (or stopped) experiment can be concluded: its code is gone from the app, so it leaves
 * every assign reply and SDK config, while its results and audit stay. New status `concluded` and
 * the time it was concluded.
 */
export class AddConcludedToExperiments1764101000000 implements MigrationInterface {
  name = 'AddConcludedToExperiments1764101000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments DROP CONSTRAINT experiments_status_check');
    await q.query(`ALTER TABLE experiments ADD CONSTRAINT experiments_status_check CHECK (status IN ('draft', 'running', 'stopped', 'shipped', 'concluded'))`);
    await q.query('ALTER TABLE experiments ADD COLUMN concluded_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to what they were concluded from: shipped when they have a shipped variant.
    await q.query(`UPDATE experiments SET status = CASE WHEN shipped_variant IS NULL THEN 'stopped' ELSE 'shipped' END WHERE status = 'concluded'`);
    await q.query('ALTER TABLE experiments DROP COLUMN concluded_at');
    await q.query('ALTER TABLE experiments DROP CONSTRAINT experiments_status_check');
    await q.query(`ALTER TABLE experiments ADD CONSTRAINT experiments_status_check CHECK (status IN ('draft', 'running', 'stopped', 'shipped'))`);
  }
}
