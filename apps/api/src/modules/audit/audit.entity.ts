import type { AuditEntityType } from '@strata/contracts';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  /** The API key that made the change; null for the system (jobs, bootstrap). */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId!: string | null;

  /** The person who made the change; null for API keys and the system. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  /** The person's e-mail, the key's name, or "system", as at the time of the change. */
  @Column({ name: 'actor_name', type: 'text' })
  actorName!: string;

  @Column({ type: 'text' })
  action!: string;

  /** Written only through AuditService.record, whose type names the entity types. */
  @Column({ name: 'entity_type', type: 'text' })
  entityType!: AuditEntityType;

  @Column({ name: 'entity_key', type: 'text' })
  entityKey!: string;

  @Column({ type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after!: unknown;
}
