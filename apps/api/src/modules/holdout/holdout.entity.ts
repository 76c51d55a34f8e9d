import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'holdouts' })
export class HoldoutEntity {
  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  /** Hash salt of the holdout; fixed at creation (a new one would move units between the arms). */
  @Column({ type: 'text' })
  salt!: string;

  /** Share of units held out, in (0, 0.5]; fixed at creation. */
  @Column({ type: 'double precision' })
  share!: number;

  /** Covered layers; null = every layer. */
  @Column({ name: 'layer_keys', type: 'text', array: true, nullable: true })
  layerKeys!: string[] | null;

  /** Compared metrics; the first is primary. */
  @Column({ name: 'metric_keys', type: 'text', array: true })
  metricKeys!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
