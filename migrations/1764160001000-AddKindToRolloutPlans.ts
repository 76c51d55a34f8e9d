import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rollout plan either ramps a running experiment's traffic (`traffic`, every plan so far) or
 * stages the ship of its winner (`ship`: the steps are the ship share of targeted units).
 */
export class AddKindToRolloutPlans1764160001000 implements MigrationInterface {
  name = 'AddKindToRolloutPlans1764160001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rollout_plans ADD COLUMN kind text NOT NULL DEFAULT 'traffic' CHECK (kind IN ('traffic', 'ship'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE rollout_plans DROP COLUMN kind');
  }
}
