import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys of type `ci` (deployment pipelines: read an experiment's state, drive its rollout only). */
export class AddCiToApiKeyTypes1764110001000 implements MigrationInterface {
  name = 'AddCiToApiKeyTypes1764110001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE api_keys DROP CONSTRAINT api_keys_type_check');
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_type_check CHECK (type IN ('admin', 'sdk-server', 'sdk-client', 'ci'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The old code knows no ci key: they go (revoked or not) before the old check returns.
    await q.query(`DELETE FROM api_keys WHERE type = 'ci'`);
    await q.query('ALTER TABLE api_keys DROP CONSTRAINT api_keys_type_check');
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_type_check CHECK (type IN ('admin', 'sdk-server', 'sdk-client'))`);
  }
}
