import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A metric's archive time (issue #18): an archived metric leaves the experiment form's pickers and
 * the default metrics list, and stays readable and measured for the experiments that use it.
 * NULL: active, so existing metrics stay as they are.
 */
export class AddArchivedAtToMetrics1764180000000 implements MigrationInterface {
  name = 'AddArchivedAtToMetrics1764180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE metrics ADD COLUMN archived_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE metrics DROP COLUMN archived_at');
  }
}
