import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The per-layer ledger: which experiment held which bucket range, from when until when.
 * Rows with `released_at IS NULL` are the live reservations; released rows stay as history.
 */
@Entity({ name: 'bucket_allocations' })
@Index('bucket_allocations_live_idx', ['layerKey'], { where: 'released_at IS NULL' })
export class BucketAllocationEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'layer_key', type: 'text' })
  layerKey!: string;

  @Column({ name: 'experiment_key', type: 'text' })
  experimentKey!: string;

  /** First bucket held (inclusive). */
  @Column({ name: 'start_bucket', type: 'int' })
  start!: number;

  /** One past the last bucket held (exclusive). */
  @Column({ name: 'end_bucket', type: 'int' })
  end!: number;

  @Column({ name: 'reserved_at', type: 'timestamptz' })
  reservedAt!: Date;

  @Column({ name: 'released_at', type: 'timestamptz', nullable: true })
  releasedAt!: Date | null;
}
