import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ApiKeyDto, ApiKeyType, CreatedApiKeyDto, CreateApiKeyRequest, Page } from '@strata/contracts';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { isUniqueViolation } from '../../common/errors/postgres-errors';
import { SYSTEM, type Principal } from '../../common/guards/principal';
import { AuthFailures } from '../../common/guards/auth-failures';
import { AuditService } from '../audit/audit.service';
import { ConfigStateService, type CachedKey } from '../config-state/config-state.service';
import { displayPrefix, generateSecret, hashSecret } from './api-key-secret';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyUsage } from './api-key-usage';

export type { CachedKey };

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** 429 for a client address that failed to authenticate too often. */
export function rateLimited(seconds: number): AppException {
  return new AppException('rate_limited', `Too many failed authentications from this address; retry in ${seconds} s.`, [], { 'retry-after': String(seconds) });
}

function toDto(k: ApiKeyEntity): ApiKeyDto {
  return {
    id: k.id,
    name: k.name,
    type: k.type,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * Issues, lists and revokes API keys. Authentication reads ConfigStateService's in-memory map of
 * active key hashes (re-read on every key change), so no request pays a query.
 */
@Injectable()
export class ApiKeyService {
  /**
   * Secrets already found valid in the current key map, so a request doesn't pay a SHA-256 (~1.3 µs,
   * about 2 % of a `POST /v1/assign`). Only secrets of active keys get in (at most one entry per
   * key, so it stays small) and every new key map empties it: a revoked key stops working as before.
   */
  private verified = new Map<string, CachedKey>();
  /** The key map `verified` was filled from. */
  private verifiedIn: ReadonlyMap<string, CachedKey> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly config: ConfigStateService,
    private readonly failures: AuthFailures,
    private readonly usage: ApiKeyUsage,
  ) {}

  /**
   * The key of an `Authorization: Bearer <key>` header, or 401 (429 with Retry-After once this
   * client address failed too often). A valid key always passes, even from an address that is
   * refused: a key holder is never locked out by someone else's bad keys, and guessing a 144-bit
   * key is hopeless anyway; the limit stops a client from hammering with bad keys. HOT PATH: a
   * valid key costs two map lookups and one map write (its last use, written later in a batch).
   */
  authenticateBearer(authorization: string, client: string): CachedKey {
    const match = BEARER.exec(authorization);
    const key = match?.[1] === undefined ? undefined : this.authenticate(match[1]);
    if (key !== undefined) {
      this.usage.record(key.id);
      return key;
    }
    const wait = this.failures.fail(client);
    if (wait > 0) throw rateLimited(wait);
    if (!match?.[1]) throw new AppException('unauthorized', 'The Authorization header must be "Bearer <key>".');
    throw new AppException('unauthorized', 'The API key is not valid or has been revoked.');
  }

  authenticate(secret: string): CachedKey | undefined {
    const active = this.config.apiKeys;
    if (active !== this.verifiedIn) {
      this.verified = new Map();
      this.verifiedIn = active;
    }
    const known = this.verified.get(secret);
    if (known !== undefined) return known;
    const key = active.get(hashSecret(secret));
    if (key !== undefined) this.verified.set(secret, key);
    return key;
  }

  async create(principal: Principal, request: CreateApiKeyRequest): Promise<CreatedApiKeyDto> {
    const secret = generateSecret(request.type);
    const created = await this.insert(principal, request.name, request.type, secret);
    return { ...created, secret };
  }

  async list(limit: number, offset: number): Promise<Page<ApiKeyDto>> {
    const [rows, total] = await this.dataSource
      .getRepository(ApiKeyEntity)
      .findAndCount({ order: { createdAt: 'DESC' }, take: limit, skip: offset });
    return { items: rows.map(toDto), total, limit, offset };
  }

  async revoke(principal: Principal, id: string): Promise<ApiKeyDto> {
    const dto = await this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(ApiKeyEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw new NotFoundException('API key', id);
      if (key.revokedAt) throw new AppException('conflict', `API key "${id}" is already revoked.`);
      if (key.type === 'admin' && principal.keyId === id) {
        const others = await manager.count(ApiKeyEntity, { where: { type: 'admin', revokedAt: IsNull() } });
        if (others <= 1) throw new AppException('conflict', 'You cannot revoke the last active admin key.');
      }
      const before = toDto(key);
      key.revokedAt = new Date();
      await manager.save(key);
      const after = toDto(key);
      await this.audit.recordConfigChange(manager, principal, { action: 'api_key.revoke', entityType: 'api_key', entityKey: id, before, after });
      return after;
    });
    await this.reload(id);
    return dto;
  }

  /**
   * First start: make sure an admin key exists. `STRATA_ADMIN_KEY` is accepted as given;
   * otherwise one is generated when there is no admin key yet, and returned to be printed once.
   */
  async ensureBootstrapKey(envSecret: string | undefined): Promise<string | null> {
    if (envSecret) {
      const exists = await this.dataSource.getRepository(ApiKeyEntity).exists({ where: { secretHash: hashSecret(envSecret) } });
      if (exists) return null;
      try {
        await this.insert(SYSTEM, 'bootstrap (STRATA_ADMIN_KEY)', 'admin', envSecret);
      } catch (error) {
        // Another API process sharing the database inserted the same key first.
        if (!isUniqueViolation(error)) throw error;
      }
      return null;
    }
    const secret = generateSecret('admin');
    const created = await this.dataSource.transaction(async (manager) => {
      // Several API processes starting on an empty database at once: one creates the key, the
      // others then see it (without the lock each would count none and print its own key).
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('strata.bootstrap-admin-key'))`);
      const admins = await manager.getRepository(ApiKeyEntity).count({ where: { type: 'admin' } });
      if (admins > 0) return null;
      return (await this.insertWith(manager, SYSTEM, 'bootstrap', 'admin', secret)).id;
    });
    if (!created) return null;
    await this.reload(created);
    return secret;
  }

  private async insert(principal: Principal, name: string, type: ApiKeyType, secret: string): Promise<ApiKeyDto> {
    const dto = await this.dataSource.transaction((manager) => this.insertWith(manager, principal, name, type, secret));
    await this.reload(dto.id);
    return dto;
  }

  private async insertWith(manager: EntityManager, principal: Principal, name: string, type: ApiKeyType, secret: string): Promise<ApiKeyDto> {
    const entity = manager.create(ApiKeyEntity, { name, type, prefix: displayPrefix(secret), secretHash: hashSecret(secret) });
    await manager.insert(ApiKeyEntity, entity);
    const after = toDto(entity);
    await this.audit.recordConfigChange(manager, principal, { action: 'api_key.create', entityType: 'api_key', entityKey: entity.id, before: null, after });
    return after;
  }

  /** This process's key map follows its own change at once (the others hear of it through the change feed). */
  private reload(id: string): Promise<void> {
    return this.config.refresh([{ entityType: 'api_key', key: id }]);
  }
}
