/**
 * Winsorization: cap a heavy-tailed metric (revenue, session length) at percentiles so one whale
 * cannot dominate the variance. Compute the thresholds once (e.g. from pooled pre-period or
 * control data), then cap per unit — in SQL: LEAST(GREATEST(value, lower), upper).
 */

export interface CapThresholds {
  lower: number;
  upper: number;
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
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { lower: percentileSorted(sorted, lowerPercentile), upper: percentileSorted(sorted, upperPercentile) };
}

/** Caps one value to [lower, upper]. */
export function capValue(value: number, thresholds: CapThresholds): number {
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
