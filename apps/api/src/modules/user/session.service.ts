import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Role } from '@strata/contracts';
import { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { AuthFailures } from '../../common/guards/auth-failures';
import type { Principal } from '../../common/guards/principal';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { rateLimited } from '../api-key/api-key.service';
import { dummyPasswordHash, verifyPassword } from './password';
import { hashSessionToken, newSessionToken } from './session-cookie';

export interface SessionPrincipal extends Principal {
  userId: string;
  sessionId: string;
  role: Role;
  expiresAt: Date;
}

export interface LoginResult {
  token: string;
  principal: SessionPrincipal;
}

/** last_seen_at is written at most this often per session: the idle timeout is precise to a minute, reads stay reads. */
const TOUCH_EVERY_MS = 60_000;

interface SessionRow {
  id: string;
  user_id: string;
  email: string;
  role: Role;
  expires_at: Date;
  last_seen_at: Date;
}

/**
 * Sign-in, the session behind each dashboard request, and sign-out. Sessions live in
 * user_sessions (not in memory), so every API process sees a sign-out, a disabled account or a
 * changed role at the next request: one indexed lookup per cookie-authenticated request.
 */
@Injectable()
export class SessionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly failures: AuthFailures,
  ) {}

  /**
   * E-mail + password → a new session. Every failure (no such account, disabled, wrong password)
   * gives the same answer after the same argon2 work, and counts against the client's address.
   */
  async login(email: string, password: string, client: string, userAgent: string | undefined): Promise<LoginResult> {
    const wait = this.failures.retryAfter(client);
    if (wait > 0) throw rateLimited(wait);
    const rows: { id: string; email: string; role: Role; password_hash: string; disabled_at: Date | null }[] = await this.dataSource.query(
      'SELECT id, email, role, password_hash, disabled_at FROM users WHERE email = $1',
      [email.trim().toLowerCase()],
    );
    const user = rows[0];
    const matches = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), password);
    if (user === undefined || user.disabled_at !== null || !matches) {
      const after = this.failures.fail(client);
      if (after > 0) throw rateLimited(after);
      throw new AppException('invalid_credentials');
    }
    const token = newSessionToken();
    const expiresAt = new Date(Date.now() + this.config.auth.sessionMaxMs);
    const [session] = (await this.dataSource.query(
      'INSERT INTO user_sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [hashSessionToken(token), user.id, expiresAt, client.slice(0, 100), userAgent?.slice(0, 500) ?? null],
    )) as { id: string }[];
    await this.dataSource.query('UPDATE users SET last_login_at = now() WHERE id = $1', [user.id]);
    // Ended sessions are of no use; drop this person's, so the table does not grow with every sign-in.
    await this.dataSource.query('DELETE FROM user_sessions WHERE user_id = $1 AND (expires_at < now() OR revoked_at IS NOT NULL)', [
      user.id,
    ]);
    return {
      token,
      principal: toPrincipal({
        id: session.id,
        user_id: user.id,
        email: user.email,
        role: user.role,
        expires_at: expiresAt,
        last_seen_at: new Date(),
      }),
    };
  }

  /** The live session of this token, or null (unknown, signed out, expired, idle too long, account disabled). */
  async authenticate(token: string): Promise<SessionPrincipal | null> {
    const rows: SessionRow[] = await this.dataSource.query(
      `SELECT s.id, s.user_id, u.email, u.role, s.expires_at, s.last_seen_at
         FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
          AND s.last_seen_at > now() - make_interval(secs => $2) AND u.disabled_at IS NULL`,
      [hashSessionToken(token), this.config.auth.sessionIdleMs / 1000],
    );
    const row = rows[0];
    if (row === undefined) return null;
    if (Date.now() - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
      await this.dataSource.query('UPDATE user_sessions SET last_seen_at = now() WHERE id = $1', [row.id]);
    }
    return toPrincipal(row);
  }

  async logout(sessionId: string): Promise<void> {
    await this.dataSource.query('UPDATE user_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [sessionId]);
  }
}

function toPrincipal(row: SessionRow): SessionPrincipal {
  return { keyId: null, type: 'user', userId: row.user_id, sessionId: row.id, name: row.email, role: row.role, expiresAt: row.expires_at };
}
