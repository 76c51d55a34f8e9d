import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Interaction checks across layers (apps/api/src/modules/interaction, docs/analysis.md):
 * - `analysis_interaction_cells`: per pair of running experiments in different layers (exp_a <
 *   exp_b) that share enough units, per (arm of A, arm of B), the shared units' n and the sums of
 *   both experiments' primary-metric per-unit values (y, y², and the ratio terms x, x², xy).
 * - `analysis_interactions`: one test per ordered pair (subject, other): does the subject's effect
 *   on its primary metric differ between the other's arms? Estimate, p, the FDR-adjusted p over
 *   every test of the refresh, and whether it is flagged. Both are replaced by each refresh.
 */
export class CreateAnalysisInteractions1764130000000 implements MigrationInterface {
  name = 'CreateAnalysisInteractions1764130000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE analysis_interaction_cells (
        exp_a text NOT NULL,
        exp_b text NOT NULL,
        arm_a text NOT NULL,
        arm_b text NOT NULL,
        n bigint NOT NULL,
        a_sum double precision NOT NULL,
        a_sum_sq double precision NOT NULL,
        a_sum_den double precision NOT NULL,
        a_sum_den_sq double precision NOT NULL,
        a_sum_num_den double precision NOT NULL,
        b_sum double precision NOT NULL,
        b_sum_sq double precision NOT NULL,
        b_sum_den double precision NOT NULL,
        b_sum_den_sq double precision NOT NULL,
        b_sum_num_den double precision NOT NULL,
        PRIMARY KEY (exp_a, exp_b, arm_a, arm_b),
        CHECK (exp_a < exp_b)
      )`);
    await q.query(`
      CREATE TABLE analysis_interactions (
        subject text NOT NULL,
        other text NOT NULL,
        metric_key text NOT NULL,
        units bigint NOT NULL,
        method text,
        df int,
        statistic double precision,
        estimate double precision,
        se double precision,
        p_value double precision,
        adjusted_p double precision,
        flagged boolean NOT NULL DEFAULT false,
        contrasts jsonb NOT NULL DEFAULT '[]',
        reason text,
        correction text NOT NULL,
        fdr double precision NOT NULL,
        sample_fraction double precision NOT NULL,
        computed_at timestamptz NOT NULL,
        PRIMARY KEY (subject, other)
      )`);
    await q.query('CREATE INDEX analysis_interactions_other_idx ON analysis_interactions (other)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE analysis_interactions');
    await q.query('DROP TABLE analysis_interaction_cells');
  }
}
