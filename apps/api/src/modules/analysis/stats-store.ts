import type { ArmAggregate, MetricAggregates } from '../result/results-builder';

/** Anything that runs SQL: a DataSource, an EntityManager or a QueryRunner. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** One slice of an experiment's statistics: units per variant and each metric's per-variant sums. */
export interface SliceStats {
  units: Map<string, number>;
  aggregates: MetricAggregates;
}

interface StatsRow {
  experiment_key: string;
  val: string;
  metric_key: string;
  variant_key: string;
  n: string;
  sum: string;
  sum_sq: string;
  cov_sum: string;
  cov_sum_sq: string;
  cross_sum: string;
  sum_den: string;
  sum_den_sq: string;
  sum_num_den: string;
}

export function toArmAggregate(r: StatsRow): ArmAggregate {
  // numeric arrives as text; the statistics work in doubles.
  return {
    n: Number(r.n),
    sum: Number(r.sum),
    sumSq: Number(r.sum_sq),
    covSum: Number(r.cov_sum),
    covSumSq: Number(r.cov_sum_sq),
    crossSum: Number(r.cross_sum),
    sumDen: Number(r.sum_den),
    sumDenSq: Number(r.sum_den_sq),
    sumNumDen: Number(r.sum_num_den),
  };
}

/**
 * The stored statistics of some experiments for one dimension ('' = the whole experiment,
 * 'day', or a segment dimension): experiment → slice value → stats. A keyed read of the
 * analysis_stats primary key; its cost does not depend on the number of units.
 */
export async function readStats(db: Queryable, keys: string[], dim: string): Promise<Map<string, Map<string, SliceStats>>> {
  const out = new Map<string, Map<string, SliceStats>>();
  if (keys.length === 0) return out;
  const rows = (await db.query(
    `SELECT experiment_key, val, metric_key, variant_key, n, sum, sum_sq, cov_sum, cov_sum_sq, cross_sum, sum_den, sum_den_sq, sum_num_den
       FROM analysis_stats WHERE experiment_key = ANY($1::text[]) AND dim = $2`,
    [keys, dim],
  )) as StatsRow[];
  for (const r of rows) {
    let slices = out.get(r.experiment_key);
    if (!slices) out.set(r.experiment_key, (slices = new Map()));
    let slice = slices.get(r.val);
    if (!slice) slices.set(r.val, (slice = { units: new Map(), aggregates: new Map() }));
    if (r.metric_key === '') {
      if (Number(r.n) > 0) slice.units.set(r.variant_key, Number(r.n));
      continue;
    }
    let arms = slice.aggregates.get(r.metric_key);
    if (!arms) slice.aggregates.set(r.metric_key, (arms = new Map()));
    arms.set(r.variant_key, toArmAggregate(r));
  }
  return out;
}

export const EMPTY_SLICE: SliceStats = { units: new Map(), aggregates: new Map() };

/** A winsorization cap as the results show it. */
export interface StoredCap {
  metric: string;
  percentile: number;
  cap: number | null;
  covariateCap: number | null;
  units: number;
  computedAt: Date;
}

export async function readCaps(db: Queryable, keys: string[]): Promise<Map<string, Map<string, StoredCap>>> {
  const out = new Map<string, Map<string, StoredCap>>();
  if (keys.length === 0) return out;
  const rows = (await db.query(
    'SELECT experiment_key, metric_key, percentile, y_cap, c_cap, units, computed_at FROM analysis_caps WHERE experiment_key = ANY($1::text[])',
    [keys],
  )) as { experiment_key: string; metric_key: string; percentile: number; y_cap: number | null; c_cap: number | null; units: string; computed_at: Date }[];
  for (const r of rows) {
    let m = out.get(r.experiment_key);
    if (!m) out.set(r.experiment_key, (m = new Map()));
    m.set(r.metric_key, { metric: r.metric_key, percentile: r.percentile, cap: r.y_cap, covariateCap: r.c_cap, units: Number(r.units), computedAt: r.computed_at });
  }
  return out;
}

/** The control arm's stored sums of one metric in one experiment (dim '' = the whole experiment). */
export interface ControlStats {
  experimentKey: string;
  variantKey: string;
  arm: ArmAggregate;
}

/**
 * The control arm (the first variant) of the most recent experiment that measures `metricKey`
 * (primary, secondary or guardrail) and has units in it, or null. One keyed read of the
 * analysis_stats primary key per candidate experiment; no recomputation.
 */
export async function readLatestControlStats(db: Queryable, metricKey: string): Promise<ControlStats | null> {
  const rows = (await db.query(
    `SELECT s.experiment_key, s.val, s.metric_key, s.variant_key, s.n, s.sum, s.sum_sq, s.cov_sum, s.cov_sum_sq, s.cross_sum, s.sum_den, s.sum_den_sq, s.sum_num_den
       FROM experiments e
       JOIN analysis_stats s
         ON s.experiment_key = e.key AND s.dim = '' AND s.val = '' AND s.metric_key = $1 AND s.variant_key = e.variants->0->>'key'
      WHERE (e.primary_metric = $1 OR e.secondary_metrics ? $1 OR e.guardrail_metrics ? $1) AND s.n > 0
      ORDER BY e.started_at DESC NULLS LAST, e.created_at DESC, e.key
      LIMIT 1`,
    [metricKey],
  )) as StatsRow[];
  const r = rows[0];
  return r ? { experimentKey: r.experiment_key, variantKey: r.variant_key, arm: toArmAggregate(r) } : null;
}
