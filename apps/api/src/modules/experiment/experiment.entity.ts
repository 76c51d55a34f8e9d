import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn, VersionColumn } from 'typeorm';
import type { ExperimentAlertDto, ExperimentStatus, ForcedVariantDto, TargetingRule, ValueType, VariantDto, VariantValue } from '@strata/contracts';

@Entity({ name: 'experiments' })
@Index('experiments_layer_status_idx', ['layerKey', 'status'])
export class ExperimentEntity {
  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', default: '' })
  hypothesis!: string;

  @Column({ name: 'layer_key', type: 'text' })
  layerKey!: string;

  @Column({ type: 'text', default: 'draft' })
  status!: ExperimentStatus;

  @Column({ type: 'jsonb' })
  variants!: VariantDto[];

  /** Traffic as a count of the layer's 10,000 buckets (percent × 100), exact. */
  @Column({ name: 'traffic_buckets', type: 'int' })
  trafficBuckets!: number;

  @Column({ type: 'jsonb', nullable: true })
  targeting!: TargetingRule | null;

  @Column({ name: 'forced_variants', type: 'jsonb', default: () => "'[]'" })
  forcedVariants!: ForcedVariantDto[];

  @Column({ name: 'primary_metric', type: 'text', nullable: true })
  primaryMetric!: string | null;

  @Column({ name: 'secondary_metrics', type: 'jsonb', default: () => "'[]'" })
  secondaryMetrics!: string[];

  @Column({ name: 'guardrail_metrics', type: 'jsonb', default: () => "'[]'" })
  guardrailMetrics!: string[];

  @Column({ name: 'planned_sample_size', type: 'int', nullable: true })
  plannedSampleSize!: number | null;

  /** Declared segment dimensions; null: DEFAULT_SEGMENT_DIMENSIONS (result/analysis-definition.ts). */
  @Column({ name: 'segment_dimensions', type: 'text', array: true, nullable: true })
  segmentDimensions!: string[] | null;
  /** Days before "Ready to ship" may show; null: DEFAULT_MIN_DURATION_DAYS (a weekly cycle). */
  @Column({ name: 'min_duration_days', type: 'int', nullable: true })
  minDurationDays!: number | null;

  @Column({ name: 'auto_stop', type: 'boolean', default: false })
  autoStop!: boolean;

  @Column({ type: 'text' })
  salt!: string;

  @Column({ name: 'shipped_variant', type: 'text', nullable: true })
  shippedVariant!: string | null;

  /** A staged ship: the winner goes to this many ten-thousandths of targeted units (by the ship draw); null: a full ship. */
  @Column({ name: 'ship_buckets', type: 'int', nullable: true })
  shipBuckets!: number | null;

  /** Null: the variants carry no values. */
  @Column({ name: 'value_type', type: 'text', nullable: true })
  valueType!: ValueType | null;

  @Column({ name: 'default_value', type: 'jsonb', nullable: true })
  defaultValue!: VariantValue | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  alerts!: ExperimentAlertDto[];

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'stopped_at', type: 'timestamptz', nullable: true })
  stoppedAt!: Date | null;

  @Column({ name: 'concluded_at', type: 'timestamptz', nullable: true })
  concludedAt!: Date | null;

  @Column({ name: 'stop_reason', type: 'text', nullable: true })
  stopReason!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @VersionColumn({ type: 'int', default: 1 })
  version!: number;
}
