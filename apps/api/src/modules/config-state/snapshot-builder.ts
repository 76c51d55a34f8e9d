import { createHash } from 'node:crypto';
import { BUCKETS_PER_LAYER, type BucketRange, type ConfigSnapshot, type SnapshotExperiment, type SnapshotForcedVariant, type SnapshotHoldout, type SnapshotLayer, type SnapshotVariant, type TargetingRule, type ValueType, type VariantValue } from '@strata/contracts';

/** One experiment of the configuration read (config-query.ts: CONFIG_SQL), as node-postgres returns it. */
export interface SnapshotExperimentRow {
  key: string;
  layer: string;
  salt: string;
  status: 'running' | 'shipped';
  variants: { key: string; name?: string; weight: number; value?: VariantValue }[];
  targeting: TargetingRule | null;
  forcedVariants: { unitId: string; variant: string; expiresAt: string | null }[] | null;
  shippedVariant: string | null;
  /** A staged ship's share in ten-thousandths; null (or absent: rows of tests) = a full ship. */
  shipBuckets?: number | null;
  ranges: BucketRange[] | null;
  /** Absent in rows built before variant values existed (tests). */
  valueType?: ValueType | null;
  defaultValue?: VariantValue | null;
}

export interface SnapshotRows {
  layers: SnapshotLayer[];
  experiments: SnapshotExperimentRow[];
  /** Absent in rows built before holdouts existed (tests). */
  holdouts?: SnapshotHoldout[];
}

export interface BuiltSnapshot {
  snapshot: ConfigSnapshot;
  /** Epoch ms of the earliest forced-variant expiry still ahead, or null: the snapshot must be rebuilt then. */
  nextExpiry: number | null;
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** JSON with object keys sorted at every level, so equal content always serializes identically. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The snapshot version: sha1 of the canonical JSON of layers and experiments. It depends on
 * content only (not on when or where it was built), so every process on the same
 * configuration serves the same ETag.
 */
export function contentVersion(layers: readonly SnapshotLayer[], experiments: readonly SnapshotExperiment[], holdouts: readonly SnapshotHoldout[] = []): string {
  // Without holdouts the version is what it was before they existed.
  return createHash('sha1').update(canonicalJson(holdouts.length ? { layers, experiments, holdouts } : { layers, experiments })).digest('hex');
}

/** Holdouts as the snapshot carries them, in key order (layers sorted: the same set gives the same version). */
export function snapshotHoldouts(rows: readonly SnapshotHoldout[] | undefined): SnapshotHoldout[] {
  return [...(rows ?? [])]
    .map((h) => ({ key: h.key, salt: h.salt, share: Number(h.share), layers: h.layers === null ? null : [...h.layers].sort(byKey) }))
    .sort((a, b) => byKey(a.key, b.key));
}

/** Sorted, with touching ranges joined: the same buckets always give the same ranges (and version). */
export function mergeRanges(ranges: readonly BucketRange[]): BucketRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: BucketRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** One snapshot experiment from its row; `nextExpiry` is its earliest forced-variant expiry still ahead. */
export function buildSnapshotExperiment(e: SnapshotExperimentRow, nowMs: number): { experiment: SnapshotExperiment; nextExpiry: number | null } {
  let nextExpiry: number | null = null;
  const forcedVariants = (e.forcedVariants ?? []).flatMap((f): SnapshotForcedVariant[] => {
    const expiresAt = f.expiresAt ?? null;
    if (expiresAt === null) return [{ unitId: f.unitId, variant: f.variant, expiresAt }];
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at) || at <= nowMs) return [];
    if (nextExpiry === null || at < nextExpiry) nextExpiry = at;
    // Normalized so the same instant written with different offsets hashes the same.
    return [{ unitId: f.unitId, variant: f.variant, expiresAt: new Date(at).toISOString() }];
  });
  const valueType = e.valueType ?? null;
  const experiment: SnapshotExperiment = {
    key: e.key,
    layer: e.layer,
    salt: e.salt,
    status: e.status,
    variants: e.variants.map((v): SnapshotVariant => (valueType !== null && v.value !== undefined ? { key: v.key, weight: v.weight, value: v.value } : { key: v.key, weight: v.weight })),
    ranges: e.status === 'running' ? mergeRanges(e.ranges ?? []) : [],
    targeting: e.targeting ?? null,
    forcedVariants,
    shippedVariant: e.status === 'shipped' ? e.shippedVariant : null,
  };
  // Only a staged ship below 100 % carries a share: a full ship (and one staged to 100 %) reads as always.
  if (e.status === 'shipped' && e.shipBuckets !== undefined && e.shipBuckets !== null && e.shipBuckets < BUCKETS_PER_LAYER) {
    experiment.shipShare = e.shipBuckets / BUCKETS_PER_LAYER;
  }
  // Only experiments with values carry the two fields, so snapshots without values are unchanged.
  if (valueType !== null && e.defaultValue !== undefined && e.defaultValue !== null) {
    experiment.valueType = valueType;
    experiment.defaultValue = e.defaultValue;
  }
  return { experiment, nextExpiry };
}

interface AssembledEntry {
  /** The row it was built from, to rebuild it when one of its forced variants expires. */
  row: SnapshotExperimentRow;
  experiment: SnapshotExperiment;
  /** canonicalJson(experiment), for the version. */
  canonical: string;
  /** JSON.stringify(experiment), for the served body. */
  json: string;
  nextExpiry: number | null;
}

export interface AssembledSnapshot extends BuiltSnapshot {
  /** JSON.stringify(snapshot), assembled from each experiment's cached serialization. */
  json: string;
}


/**
 * Holds the snapshot's experiments between builds so a change re-reads and re-serializes only
 * the experiments it touched: each experiment's canonical and plain JSON are kept, and the
 * version and body are joined from them (sha1 and a join over the cached strings instead of
 * re-serializing every experiment). The result is byte-identical to buildSnapshot's.
 */
export class SnapshotAssembler {
  private layers: SnapshotLayer[] = [];
  private holdouts: SnapshotHoldout[] = [];
  private readonly entries = new Map<string, AssembledEntry>();

  /** Applies one query's rows: all experiments when `keys` is 'all', else only those keys (absent = left the snapshot). */
  apply(rows: SnapshotRows, keys: ReadonlySet<string> | 'all', nowMs: number): void {
    this.layers = rows.layers.map((l) => ({ key: l.key, salt: l.salt }));
    this.holdouts = snapshotHoldouts(rows.holdouts);
    if (keys === 'all') this.entries.clear();
    else for (const k of keys) this.entries.delete(k);
    for (const row of rows.experiments) this.add(row, nowMs);
  }

  /** Rebuilds the experiments whose next forced-variant expiry has passed by `nowMs`, from the rows they were built from (no read). */
  expire(nowMs: number): void {
    for (const e of [...this.entries.values()]) if (e.nextExpiry !== null && e.nextExpiry <= nowMs) this.add(e.row, nowMs);
  }

  private add(row: SnapshotExperimentRow, nowMs: number): void {
    const { experiment, nextExpiry } = buildSnapshotExperiment(row, nowMs);
    this.entries.set(experiment.key, { row, experiment, canonical: canonicalJson(experiment), json: JSON.stringify(experiment), nextExpiry });
  }

  build(now: Date): AssembledSnapshot {
    const entries = [...this.entries.values()].sort((a, b) => byKey(a.experiment.key, b.experiment.key));
    const layers = [...this.layers].sort((a, b) => byKey(a.key, b.key));
    let nextExpiry: number | null = null;
    for (const e of entries) if (e.nextExpiry !== null && (nextExpiry === null || e.nextExpiry < nextExpiry)) nextExpiry = e.nextExpiry;
    const holdouts = this.holdouts;
    // Equal to contentVersion(layers, experiments, holdouts): canonicalJson sorts "experiments" before "holdouts" before "layers".
    const held = holdouts.length ? `"holdouts":${canonicalJson(holdouts)},` : '';
    const version = createHash('sha1')
      .update(`{"experiments":[${entries.map((e) => e.canonical).join(',')}],${held}"layers":${canonicalJson(layers)}}`)
      .digest('hex');
    const generatedAt = now.toISOString();
    const snapshot: ConfigSnapshot = { version, generatedAt, layers, experiments: entries.map((e) => e.experiment) };
    if (holdouts.length) snapshot.holdouts = holdouts;
    const json = `{"version":${JSON.stringify(version)},"generatedAt":${JSON.stringify(generatedAt)},"layers":${JSON.stringify(layers)},"experiments":[${entries.map((e) => e.json).join(',')}]${holdouts.length ? `,"holdouts":${JSON.stringify(holdouts)}` : ''}}`;
    return { snapshot, nextExpiry, json };
  }
}

/**
 * Turns query rows into a ConfigSnapshot. Forced variants that expired by `now` are dropped
 * (the snapshot changes, hence its version, when one expires); the earliest expiry still
 * ahead is returned so the caller can schedule the next rebuild.
 */
export function buildSnapshot(rows: SnapshotRows, now: Date): BuiltSnapshot {
  const nowMs = now.getTime();
  let nextExpiry: number | null = null;
  const layers: SnapshotLayer[] = rows.layers.map((l) => ({ key: l.key, salt: l.salt }));
  const experiments: SnapshotExperiment[] = rows.experiments.map((row) => {
    const built = buildSnapshotExperiment(row, nowMs);
    if (built.nextExpiry !== null && (nextExpiry === null || built.nextExpiry < nextExpiry)) nextExpiry = built.nextExpiry;
    return built.experiment;
  });
  const holdouts = snapshotHoldouts(rows.holdouts);
  const snapshot: ConfigSnapshot = { version: contentVersion(layers, experiments, holdouts), generatedAt: now.toISOString(), layers, experiments };
  if (holdouts.length) snapshot.holdouts = holdouts;
  return { snapshot, nextExpiry };
}
