import type { ApiKeyType, ExperimentStatus, SnapshotHoldout, SnapshotLayer } from '@strata/contracts';
import type { SnapshotExperimentRow } from './snapshot-builder';

/** One experiment of any status: what the snapshot needs (running and shipped only) and the catalog's start and stop times. */
export interface ConfigExperimentRow extends Omit<SnapshotExperimentRow, 'status'> {
  status: ExperimentStatus;
  startedAt: string | null;
  stoppedAt: string | null;
}

export interface ConfigHoldoutRow extends SnapshotHoldout {
  createdAt: string;
}

export interface ConfigKeyRow {
  id: string;
  type: ApiKeyType;
  name: string;
  secretHash: string;
}

/** The one row CONFIG_SQL returns. */
export interface ConfigRows {
  layers: SnapshotLayer[];
  holdouts: ConfigHoldoutRow[];
  experiments: ConfigExperimentRow[];
  /** The active API keys; null when not asked for (`$2` false). */
  apiKeys: ConfigKeyRow[] | null;
}

/**
 * The whole configuration every API process holds, in one statement so layers, holdouts,
 * experiments, live bucket ranges and API keys come from the same MVCC snapshot (separate
 * queries could straddle a commit). Bucket ranges are read for running experiments only
 * (shipped ones hold none: the ledger released them). `$1` limits the experiments to those keys
 * (an incremental update after a change; null reads all); `$2` says whether to read the keys.
 * Layers and holdouts are few and always read.
 */
export const CONFIG_SQL = `
  SELECT
    COALESCE((SELECT json_agg(json_build_object('key', l.key, 'salt', l.salt) ORDER BY l.key) FROM layers l), '[]') AS layers,
    COALESCE((
      SELECT json_agg(json_build_object('key', h.key, 'salt', h.salt, 'share', h.share, 'layers', h.layer_keys, 'createdAt', h.created_at) ORDER BY h.key)
      FROM holdouts h
    ), '[]') AS holdouts,
    COALESCE((
      SELECT json_agg(json_build_object(
        'key', e.key,
        'layer', e.layer_key,
        'salt', e.salt,
        'status', e.status,
        'variants', e.variants,
        'targeting', e.targeting,
        'forcedVariants', e.forced_variants,
        'shippedVariant', e.shipped_variant,
        'shipBuckets', e.ship_buckets,
        'valueType', e.value_type,
        'defaultValue', e.default_value,
        'startedAt', e.started_at,
        'stoppedAt', e.stopped_at,
        'ranges', CASE WHEN e.status = 'running' THEN (
          SELECT json_agg(json_build_object('start', a.start_bucket, 'end', a.end_bucket) ORDER BY a.start_bucket)
          FROM bucket_allocations a
          WHERE a.experiment_key = e.key AND a.layer_key = e.layer_key AND a.released_at IS NULL
        ) END
      ) ORDER BY e.key)
      FROM experiments e
      WHERE $1::text[] IS NULL OR e.key = ANY($1::text[])
    ), '[]') AS experiments,
    CASE WHEN $2::boolean THEN COALESCE((
      SELECT json_agg(json_build_object('id', k.id, 'type', k.type, 'name', k.name, 'secretHash', k.secret_hash))
      FROM api_keys k
      WHERE k.revoked_at IS NULL
    ), '[]') END AS "apiKeys"`;
