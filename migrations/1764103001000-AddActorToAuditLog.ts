import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each audit entry names who made the change: the person (user_id, and the e-mail in actor_name)
 * or the API key (api_key_id, and the key's name in actor_name), as they were at the time.
 * Existing entries get their key's current name, or "system".
 */
export class AddActorToAuditLog1764103001000 implements MigrationInterface {
  name = 'AddActorToAuditLog1764103001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_log ADD COLUMN user_id uuid, ADD COLUMN actor_name text');
    await q.query(`UPDATE audit_log a SET actor_name = COALESCE((SELECT k.name FROM api_keys k WHERE k.id = a.api_key_id), 'system')`);
    await q.query(`ALTER TABLE audit_log ALTER COLUMN actor_name SET DEFAULT 'system', ALTER COLUMN actor_name SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_log DROP COLUMN user_id, DROP COLUMN actor_name');
  }
}
