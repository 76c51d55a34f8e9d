import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A single-row counter bumped (with a NOTIFY) by every configuration change, so each
 * API process can tell its in-memory snapshot is stale by polling or listening.
 */
export class CreateConfigVersion1764000002000 implements MigrationInterface {
  name = 'CreateConfigVersion1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE config_version (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        version bigint NOT NULL DEFAULT 0,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('INSERT INTO config_version (id, version) VALUES (true, 0)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE config_version');
  }
}
