import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Staged ships (issue 17, "ship as a rollout"): a shipped experiment may give its winner to a
 * share of the units in targeting only — those whose ship draw (libs/bucketing README, step 4)
 * falls below `ship_buckets` / 10,000. Null is a full ship (everyone in targeting), as before.
 */
export class AddShipBucketsToExperiments1764160000000 implements MigrationInterface {
  name = 'AddShipBucketsToExperiments1764160000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments ADD COLUMN ship_buckets int CHECK (ship_buckets BETWEEN 0 AND 10000)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments DROP COLUMN ship_buckets');
  }
}
