import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateLayers1764000003000 implements MigrationInterface {
  name = 'CreateLayers1764000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE layers (
        key text PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        salt text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE layers');
  }
}
