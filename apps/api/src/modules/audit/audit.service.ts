import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { AuditActorDto, AuditEntityType, AuditEntryDto, Page } from '@strata/contracts';
import type { z } from 'zod';
import { DataSource, type EntityManager } from 'typeorm';
import type { auditQuerySchema } from '@strata/contracts';
import { bumpConfigVersion, type ConfigChange } from '../../database/config-change-feed';
import type { Principal } from '../../common/guards/principal';
import { AuditEntryEntity } from './audit.entity';

export interface AuditRecord {
  action: string;
  entityType: AuditEntityType;
  entityKey: string;
  before: unknown;
  after: unknown;
}

/** An audited change to what API processes hold in memory (ConfigStateService: snapshot, catalog, API keys). */
export interface ConfigChangeRecord extends AuditRecord {
  entityType: ConfigChange['entityType'];
}

function actorOf(r: AuditEntryEntity): AuditActorDto {
  if (r.userId !== null) return { kind: 'user', id: r.userId, name: r.actorName };
  if (r.apiKeyId !== null) return { kind: 'api_key', id: r.apiKeyId, name: r.actorName };
  return { kind: 'system', id: null, name: r.actorName };
}

/**
 * Every change is written here in the same transaction as the change. Being audited and changing
 * the configuration are two things: `record` only writes the audit row (metric definitions,
 * users, experiment alerts and guardrail findings, rollout bookkeeping: nothing a process holds
 * in memory); `recordConfigChange` also bumps the configuration version, naming the changed
 * entity, so every API process re-reads that entry of its snapshot, catalog or key map.
 */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(manager: EntityManager, principal: Principal, entry: AuditRecord): Promise<void> {
    await manager.query(
      'INSERT INTO audit_log (api_key_id, user_id, actor_name, action, entity_type, entity_key, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [principal.keyId, principal.userId, principal.name, entry.action, entry.entityType, entry.entityKey, JSON.stringify(entry.before ?? null), JSON.stringify(entry.after ?? null)],
    );
  }

  /** Audits a change of served configuration and bumps the configuration version, in `manager`'s transaction. */
  async recordConfigChange(manager: EntityManager, principal: Principal, entry: ConfigChangeRecord): Promise<void> {
    await this.record(manager, principal, entry);
    await bumpConfigVersion(manager, { entityType: entry.entityType, key: entry.entityKey });
  }

  async list(query: z.output<typeof auditQuerySchema>): Promise<Page<AuditEntryDto>> {
    const qb = this.dataSource.getRepository(AuditEntryEntity).createQueryBuilder('a');
    if (query.entityType) qb.andWhere('a.entity_type = :entityType', { entityType: query.entityType });
    if (query.entityKey) qb.andWhere('a.entity_key = :entityKey', { entityKey: query.entityKey });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.since) qb.andWhere('a.at >= :since', { since: query.since });
    if (query.until) qb.andWhere('a.at < :until', { until: query.until });
    const [rows, total] = await qb.orderBy('a.id', 'DESC').take(query.limit).skip(query.offset).getManyAndCount();
    return {
      items: rows.map((r) => ({
        id: String(r.id),
        at: r.at.toISOString(),
        actor: actorOf(r),
        apiKeyId: r.apiKeyId,
        action: r.action,
        entityType: r.entityType,
        entityKey: r.entityKey,
        before: r.before,
        after: r.after,
      })),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }
}
