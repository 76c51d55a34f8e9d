import type { MigrationInterface, QueryRunner } from 'typeorm';

/** People who sign in to the dashboard, and their server-side sessions. */
export class CreateUsers1764103000000 implements MigrationInterface {
  name = 'CreateUsers1764103000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL CHECK (email = lower(email)),
        role text NOT NULL CHECK (role IN ('viewer', 'experimenter', 'admin')),
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz,
        last_login_at timestamptz
      )`);
    await q.query('CREATE UNIQUE INDEX users_email_key ON users (email)');
    await q.query(`
      CREATE TABLE user_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash text NOT NULL UNIQUE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        ip text,
        user_agent text
      )`);
    await q.query('CREATE INDEX user_sessions_user_idx ON user_sessions (user_id)');
    await q.query('CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE user_sessions');
    await q.query('DROP TABLE users');
  }
}
