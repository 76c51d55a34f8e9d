import type { BucketRange } from './config';
import type { SnapshotHoldout } from './holdouts';
import type { TargetingRule } from './targeting';
import type { ValueType, VariantValue } from './values';

/**
 * The configuration snapshot: everything needed to assign units without a database.
 * The API builds it from configuration, serves it at `GET /v1/sdk/config` (with an ETag)
 * and evaluates it in memory; SDKs evaluate the same object locally with libs/bucketing.
 */
export interface ConfigSnapshot {
  /** Changes whenever anything in the snapshot changes; used as the ETag. */
  version: string;
  generatedAt: string;
  layers: SnapshotLayer[];
  experiments: SnapshotExperiment[];
  /** Units held out of covered layers (absent in snapshots without holdouts, and in older ones). */
  holdouts?: SnapshotHoldout[];
}

export interface SnapshotLayer {
  key: string;
  salt: string;
}

export interface SnapshotVariant {
  key: string;
  weight: number;
  /** Present when the experiment has a `valueType`. */
  value?: VariantValue;
}

export interface SnapshotForcedVariant {
  unitId: string;
  variant: string;
  /** ISO-8601; null = never expires. */
  expiresAt: string | null;
}

export interface SnapshotExperiment {
  key: string;
  layer: string;
  salt: string;
  /** Only running and shipped experiments are in a snapshot. */
  status: 'running' | 'shipped';
  variants: SnapshotVariant[];
  /** Buckets of the layer this experiment holds (running only; empty for shipped). */
  ranges: BucketRange[];
  targeting: TargetingRule | null;
  forcedVariants: SnapshotForcedVariant[];
  /** Variant everyone in targeting gets once shipped (or the units within `shipShare`, see below). */
  shippedVariant: string | null;
  /**
   * A staged ship: the share in (0, 1] of units in targeting that get `shippedVariant` — those
   * with MurmurHash3(`${salt}:ship:${unitId}`) / 2^32 < shipShare; the others get no assignment
   * (the default). Absent (older snapshots, and every full ship) = 1, everyone in targeting.
   */
  shipShare?: number;
  /** Present only for experiments whose variants carry values (older snapshots have neither field). */
  valueType?: ValueType;
  /** What a unit not in the experiment gets; present with `valueType`. */
  defaultValue?: VariantValue;
}

export interface Assignment {
  experiment: string;
  variant: string;
  layer: string;
  /** How the variant was decided; exposures are logged only for `bucketed`. */
  reason: 'forced' | 'bucketed' | 'shipped';
  /** The variant's value, when the experiment has a `valueType` (a shipped experiment: the winner's). */
  value?: VariantValue;
}
