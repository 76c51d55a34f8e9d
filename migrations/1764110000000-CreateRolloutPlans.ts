import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Progressive rollouts (issue 17, apps/api/src/modules/rollout, docs/rollouts.md):
 * - `rollout_plans`: one plan per experiment — its steps, where it stands (status, current step,
 *   the last step that passed healthy, when the current step began and how many units were
 *   exposed then), the findings acknowledged by a person, and the last check's numbers.
 * - `rollout_history`: every step change (engine or person), append-only, with the reason and
 *   the numbers; the audit log holds the same changes with before/after.
 */
export class CreateRolloutPlans1764110000000 implements MigrationInterface {
  name = 'CreateRolloutPlans1764110000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollout_plans (
        experiment_key text PRIMARY KEY REFERENCES experiments (key) ON DELETE CASCADE,
        steps jsonb NOT NULL,
        on_harm text NOT NULL CHECK (on_harm IN ('last_safe', 'zero')),
        status text NOT NULL CHECK (status IN ('running', 'paused', 'reverted', 'completed')),
        current_step int CHECK (current_step >= 0),
        last_safe_step int CHECK (last_safe_step >= 0),
        step_started_at timestamptz NOT NULL,
        units_at_step_start bigint NOT NULL DEFAULT 0,
        exposed_units bigint NOT NULL DEFAULT 0,
        acknowledged jsonb NOT NULL DEFAULT '[]',
        findings jsonb NOT NULL DEFAULT '[]',
        revert_reason text,
        checked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX rollout_plans_active_idx ON rollout_plans (status) WHERE status IN ('running', 'paused')`);
    await q.query(`
      CREATE TABLE rollout_history (
        id bigserial PRIMARY KEY,
        experiment_key text NOT NULL REFERENCES experiments (key) ON DELETE CASCADE,
        at timestamptz NOT NULL,
        action text NOT NULL,
        from_step int,
        to_step int,
        traffic_buckets int NOT NULL,
        reason text,
        actor text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query('CREATE INDEX rollout_history_experiment_idx ON rollout_history (experiment_key, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE rollout_history');
    await q.query('DROP TABLE rollout_plans');
  }
}
