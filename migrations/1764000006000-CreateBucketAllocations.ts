import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateBucketAllocations1764000006000 implements MigrationInterface {
  name = 'CreateBucketAllocations1764000006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bucket_allocations (
        id bigserial PRIMARY KEY,
        layer_key text NOT NULL REFERENCES layers (key),
        experiment_key text NOT NULL REFERENCES experiments (key),
        start_bucket int NOT NULL CHECK (start_bucket >= 0),
        end_bucket int NOT NULL CHECK (end_bucket <= 10000 AND end_bucket > start_bucket),
        reserved_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz
      )`);
    await q.query('CREATE INDEX bucket_allocations_live_idx ON bucket_allocations (layer_key) WHERE released_at IS NULL');
    await q.query('CREATE INDEX bucket_allocations_experiment_idx ON bucket_allocations (experiment_key)');
    // Live ranges in one layer may never overlap: the database enforces exclusivity too.
    await q.query('CREATE EXTENSION IF NOT EXISTS btree_gist');
    await q.query(`
      ALTER TABLE bucket_allocations ADD CONSTRAINT bucket_allocations_no_overlap
      EXCLUDE USING gist (layer_key WITH =, int4range(start_bucket, end_bucket) WITH &&) WHERE (released_at IS NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE bucket_allocations');
  }
}
