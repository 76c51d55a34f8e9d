import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditLog1764000001000 implements MigrationInterface {
  name = 'CreateAuditLog1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        api_key_id uuid,
        action text NOT NULL,
        entity_type text NOT NULL,
        entity_key text NOT NULL,
        before jsonb,
        after jsonb
      )`);
    await q.query('CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_key, id DESC)');
    await q.query('CREATE INDEX audit_log_at_idx ON audit_log (at DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
  }
}
