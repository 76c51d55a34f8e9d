import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { CreateUserRequest, Page, UpdateUserRequest, UserDto } from '@strata/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { isUniqueViolation } from '../../common/errors/postgres-errors';
import type { Principal } from '../../common/guards/principal';
import { AuditService } from '../audit/audit.service';
import { hashPassword, verifyPassword } from './password';
import { UserEntity } from './user.entity';

function toDto(u: UserEntity): UserDto {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    createdAt: u.createdAt.toISOString(),
    disabledAt: u.disabledAt?.toISOString() ?? null,
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  };
}

/**
 * People's accounts: create, list, change role, disable, reset a password. Used by `/v1/users`
 * and by `npm run user` (which builds it by hand, without Nest). Every change is audited; the
 * password hash is never in an answer or an audit entry. Disabling an account or setting its
 * password ends its sessions.
 */
@Injectable()
export class UserService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, request: CreateUserRequest): Promise<UserDto> {
    const passwordHash = await hashPassword(request.password);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const entity = manager.create(UserEntity, { email: request.email, role: request.role, passwordHash });
        await manager.insert(UserEntity, entity);
        const after = toDto(await this.load(manager, entity.id));
        await this.audit.record(manager, principal, {
          action: 'user.create',
          entityType: 'user',
          entityKey: entity.id,
          before: null,
          after,
        });
        return after;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppException('already_exists', `A user with e-mail "${request.email}" already exists.`, [
          { path: 'email', message: 'already exists' },
        ]);
      }
      throw error;
    }
  }

  async list(limit: number, offset: number): Promise<Page<UserDto>> {
    const [rows, total] = await this.dataSource
      .getRepository(UserEntity)
      .findAndCount({ order: { email: 'ASC' }, take: limit, skip: offset });
    return { items: rows.map(toDto), total, limit, offset };
  }

  async get(id: string): Promise<UserDto> {
    return toDto(await this.load(this.dataSource.manager, id));
  }

  async idForEmail(email: string): Promise<string> {
    const user = await this.dataSource.getRepository(UserEntity).findOne({ where: { email: email.trim().toLowerCase() } });
    if (!user) throw new NotFoundException('user', email);
    return user.id;
  }

  async update(principal: Principal, id: string, request: UpdateUserRequest): Promise<UserDto> {
    if (principal.userId === id && (request.disabled === true || (request.role !== undefined && request.role !== 'admin'))) {
      throw new AppException('conflict', 'You cannot disable your own account or take away your own admin role; ask another admin.');
    }
    return this.dataSource.transaction(async (manager) => {
      const user = await this.load(manager, id, true);
      const before = toDto(user);
      if (request.role !== undefined) user.role = request.role;
      if (request.disabled !== undefined) user.disabledAt = request.disabled ? (user.disabledAt ?? new Date()) : null;
      await manager.save(user);
      if (user.disabledAt !== null) await this.endSessions(manager, id);
      const after = toDto(user);
      await this.audit.record(manager, principal, { action: 'user.update', entityType: 'user', entityKey: id, before, after });
      return after;
    });
  }

  /** An admin sets someone's password (a reset): their sessions end. */
  async setPassword(principal: Principal, id: string, password: string): Promise<UserDto> {
    const passwordHash = await hashPassword(password);
    return this.dataSource.transaction(async (manager) => {
      const user = await this.load(manager, id, true);
      await manager.update(UserEntity, { id }, { passwordHash });
      await this.endSessions(manager, id);
      const dto = toDto(user);
      await this.audit.record(manager, principal, {
        action: 'user.password_reset',
        entityType: 'user',
        entityKey: id,
        before: dto,
        after: dto,
      });
      return dto;
    });
  }

  /** A person changes their own password, proving the current one: their other sessions end. */
  async changeOwnPassword(principal: Principal, currentPassword: string, password: string): Promise<void> {
    if (principal.userId === null)
      throw new AppException('bad_request', 'Only a signed-in person has a password; API keys are rotated instead.');
    const userId = principal.userId;
    const [row] = (await this.dataSource.query('SELECT password_hash FROM users WHERE id = $1', [userId])) as { password_hash: string }[];
    if (row === undefined || !(await verifyPassword(row.password_hash, currentPassword))) {
      throw new AppException('invalid_credentials', 'The current password is wrong.', [{ path: 'currentPassword', message: 'is wrong' }]);
    }
    const passwordHash = await hashPassword(password);
    await this.dataSource.transaction(async (manager) => {
      await manager.update(UserEntity, { id: userId }, { passwordHash });
      await manager.query('UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL', [
        userId,
        principal.sessionId,
      ]);
      const dto = toDto(await this.load(manager, userId));
      await this.audit.record(manager, principal, {
        action: 'user.password_change',
        entityType: 'user',
        entityKey: userId,
        before: dto,
        after: dto,
      });
    });
  }

  private async load(manager: EntityManager, id: string, lock = false): Promise<UserEntity> {
    const user = await manager.findOne(UserEntity, { where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!user) throw new NotFoundException('user', id);
    return user;
  }

  private async endSessions(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  }
}
