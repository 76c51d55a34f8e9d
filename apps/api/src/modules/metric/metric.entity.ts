import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { MetricDirection, MetricType } from '@strata/contracts';

const numeric = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

@Entity({ name: 'metrics' })
export class MetricEntity {
  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'text' })
  type!: MetricType;

  @Column({ name: 'event_name', type: 'text' })
  eventName!: string;

  @Column({ name: 'denominator_event_name', type: 'text', nullable: true })
  denominatorEventName!: string | null;

  @Column({ type: 'text', default: 'increase' })
  direction!: MetricDirection;

  @Column({ name: 'winsorize_percentile', type: 'numeric', nullable: true, transformer: numeric })
  winsorizePercentile!: number | null;

  @Column({ name: 'harm_threshold', type: 'numeric', nullable: true, transformer: numeric })
  harmThreshold!: number | null;

  @Column({ name: 'attribution_window_hours', type: 'int', nullable: true })
  attributionWindowHours!: number | null;

  @Column({ name: 'cuped_lookback_days', type: 'int', default: 14 })
  cupedLookbackDays!: number;

  /** Archived: hidden from pickers and the default list; experiments using it keep measuring it. */
  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true })
  archivedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
