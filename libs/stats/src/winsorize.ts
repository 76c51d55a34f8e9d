import { StatsInputError } from './input-error';

/**
 * Winsorization: cap a heavy-tailed metric (revenue, session length) at percentiles so one whale
 * cannot dominate the variance. Compute the thresholds once (e.g. from pooled pre-period or
 * control data), then cap per unit — in SQL: LEAST(GREATEST(value, lower), upper).
 */

export interface CapThresholds {
  lower: number;
  upper: number;
}

/** Winsorization setting of one metric. */
export interface WinsorizationSetting {
  enabled: boolean;
  /** Upper percentile in (0, 1], e.g. 0.999. */
  upperPercentile: number;
  /** Lower percentile in [0, upper); 0 = no lower capping. */
  lowerPercentile: number;
}

/**
 * Library defaults by metric kind: mean metrics (revenue, time) are capped at the pooled p99.9 —
 * one whale can otherwise carry a whole 90/10 comparison (the review measured 10% false positives
 * on lognormal σ = 2 data without it); conversions (0/1) and ratio metrics are not capped.
 * Per-metric settings override it (`winsorizationFor`).
 */
export const DEFAULT_WINSORIZATION: Readonly<Record<'mean' | 'proportion' | 'ratio', WinsorizationSetting>> = {
  mean: { enabled: true, upperPercentile: 0.999, lowerPercentile: 0 },
  proportion: { enabled: false, upperPercentile: 1, lowerPercentile: 0 },
  ratio: { enabled: false, upperPercentile: 1, lowerPercentile: 0 },
};

/** The effective setting: the kind's default with the metric's overrides, validated. */
export function winsorizationFor(
  kind: 'mean' | 'proportion' | 'ratio',
  override: Partial<WinsorizationSetting> = {},
): WinsorizationSetting {
  const s = { ...DEFAULT_WINSORIZATION[kind], ...override };
  if (s.enabled) checkPercentiles(s.upperPercentile, s.lowerPercentile);
  return s;
}

/** Throws StatsInputError unless 0 ≤ lower < upper ≤ 1 (lower = upper = 1 is "no capping" too). */
function checkPercentiles(upper: number, lower: number): void {
  if (!(Number.isFinite(upper) && upper > 0 && upper <= 1))
    throw new StatsInputError(`winsorize: upper percentile must be in (0, 1], got ${upper}`);
  if (!(Number.isFinite(lower) && lower >= 0 && lower < 1))
    throw new StatsInputError(`winsorize: lower percentile must be in [0, 1), got ${lower}`);
  if (upper < lower) throw new StatsInputError(`winsorize: upper percentile ${upper} is below the lower percentile ${lower}`);
}

/**
 * Percentile with linear interpolation between order statistics (numpy's default, Hyndman–Fan
 * type 7): h = (n − 1)p, x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋). Returns 0 for an empty array.
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return percentileSorted(sorted, p);
}

function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const q = Math.min(1, Math.max(0, p));
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Capping thresholds at the given percentiles; lower defaults to 0 (no lower capping). */
export function capThresholds(values: readonly number[], upperPercentile: number, lowerPercentile = 0): CapThresholds {
  checkPercentiles(upperPercentile, lowerPercentile);
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { lower: percentileSorted(sorted, lowerPercentile), upper: percentileSorted(sorted, upperPercentile) };
}

/** Caps one value to [lower, upper]. */
export function capValue(value: number, thresholds: CapThresholds): number {
  if (!(thresholds.upper >= thresholds.lower)) {
    throw new StatsInputError(`capValue: upper threshold ${thresholds.upper} is below the lower threshold ${thresholds.lower}`);
  }
  return Math.min(thresholds.upper, Math.max(thresholds.lower, value));
}

/**
 * Winsorizes values at the given upper percentile (e.g. 0.99) and optional lower percentile.
 * Non-finite values are dropped from the threshold estimate and capped like any other value
 * (NaN becomes the lower threshold) so the output is always finite.
 */
export function winsorize(values: readonly number[], upperPercentile: number, lowerPercentile = 0): number[] {
  const t = capThresholds(values, upperPercentile, lowerPercentile);
  return values.map((v) => (Number.isNaN(v) ? t.lower : capValue(v, t)));
}
