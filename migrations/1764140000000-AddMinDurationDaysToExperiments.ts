import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Minimum duration per experiment (issue 15, weekly cycles): no "Ready to ship" before the
 * experiment has run this many days. Null means the default (7 days, one full weekly cycle).
 */
export class AddMinDurationDaysToExperiments1764140000000 implements MigrationInterface {
  name = 'AddMinDurationDaysToExperiments1764140000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments ADD COLUMN min_duration_days int CHECK (min_duration_days BETWEEN 0 AND 365)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments DROP COLUMN min_duration_days');
  }
}
