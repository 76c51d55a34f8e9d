import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMetrics1764000004000 implements MigrationInterface {
  name = 'CreateMetrics1764000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE metrics (
        key text PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        type text NOT NULL CHECK (type IN ('conversion', 'count', 'mean', 'ratio')),
        event_name text NOT NULL,
        denominator_event_name text,
        direction text NOT NULL DEFAULT 'increase' CHECK (direction IN ('increase', 'decrease')),
        winsorize_percentile numeric,
        harm_threshold numeric,
        attribution_window_hours int,
        cuped_lookback_days int NOT NULL DEFAULT 14,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX metrics_event_name_idx ON metrics (event_name)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE metrics');
  }
}
