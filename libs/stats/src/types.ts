/**
 * Plain-data shapes shared by every method. Inputs are per-arm sufficient statistics so the
 * same code serves a 30-row unit test and a SQL aggregate over a hundred million units.
 */

/** Sufficient statistics of one arm for a per-unit metric (conversions: 0/1 values, sum = sumSq). */
export interface ArmStats {
  /** Units in the arm. */
  n: number;
  /** Σ y over units. */
  sum: number;
  /** Σ y² over units. */
  sumSq: number;
  /**
   * Optional centred sum of squares Σ(y − ȳ)² (a.k.a. M2). When present it is used instead of
   * Σy² − (Σy)²/n, which cancels catastrophically when |mean| ≫ sd. Combine per-tick triples
   * (n, mean, M2) with `combineMoments`.
   */
  m2?: number;
}

/** ArmStats plus the pre-exposure covariate x used by CUPED. */
export interface CovariateArmStats extends ArmStats {
  /** Σ x. */
  covSum: number;
  /** Σ x². */
  covSumSq: number;
  /** Σ x·y. */
  crossSum: number;
}

/** Sufficient statistics of one arm for a ratio metric Σnum / Σden (e.g. revenue per session). */
export interface RatioArmStats {
  n: number;
  sumNum: number;
  sumNumSq: number;
  sumDen: number;
  sumDenSq: number;
  sumNumDen: number;
}

/** Parameters that produced a result, echoed so a reader can reproduce it. */
export type EstimateParams = Record<string, number | string>;

/**
 * The common result of every comparison.
 *
 * When the comparison cannot be computed (n < 2, zero variance, zero control mean, empty arm, …)
 * `defined` is false, `reason` says why, `estimate` and `standardError` are 0, `ci` is null,
 * `pValue` is 1 and `significant` is false. No field is ever NaN or ±Infinity.
 */
export interface Estimate {
  /** Which method produced the numbers, e.g. `welch-t`, `confidence-sequence`. */
  method: string;
  /** Tuning and inputs: alpha, df, N*, ρ, τ², … */
  params: EstimateParams;
  defined: boolean;
  /** Treatment − control (absolute) or treatment / control − 1 (relative). */
  estimate: number;
  standardError: number;
  /** (1 − alpha) interval; for sequential methods valid at every peek. Null when undefined. */
  ci: [number, number] | null;
  /** Two-sided p-value (always-valid for sequential methods); 1 when undefined. */
  pValue: number;
  /** pValue ≤ alpha (or adjusted p ≤ alpha after a multiple-comparison correction). */
  significant: boolean;
  /** Set by multiple-comparison corrections (see results-table). */
  adjustedPValue?: number;
  reason?: string;
  /**
   * Set when the estimate is defined but may not be called significant yet because the sample is
   * below the metric's minimum (units per arm, or events for conversions); says what it waits for.
   */
  insufficient?: string;
}

export interface AlphaOptions {
  /** Two-sided type I error rate; default 0.05. */
  alpha?: number;
}
