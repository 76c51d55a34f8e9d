import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateExperiments1764000005000 implements MigrationInterface {
  name = 'CreateExperiments1764000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE experiments (
        key text PRIMARY KEY,
        name text NOT NULL,
        hypothesis text NOT NULL DEFAULT '',
        layer_key text NOT NULL REFERENCES layers (key) ON UPDATE CASCADE,
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped', 'shipped')),
        variants jsonb NOT NULL,
        traffic_buckets int NOT NULL CHECK (traffic_buckets BETWEEN 0 AND 10000),
        targeting jsonb,
        forced_variants jsonb NOT NULL DEFAULT '[]',
        primary_metric text REFERENCES metrics (key),
        secondary_metrics jsonb NOT NULL DEFAULT '[]',
        guardrail_metrics jsonb NOT NULL DEFAULT '[]',
        planned_sample_size int,
        auto_stop boolean NOT NULL DEFAULT false,
        salt text NOT NULL,
        shipped_variant text,
        alerts jsonb NOT NULL DEFAULT '[]',
        started_at timestamptz,
        stopped_at timestamptz,
        stop_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1
      )`);
    await q.query('CREATE INDEX experiments_layer_status_idx ON experiments (layer_key, status)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE experiments');
  }
}
