import { StatsInputError } from './input-error';
import { logGamma } from './log-gamma';
import { SRM_THRESHOLD } from './srm';

/**
 * Anytime-valid sample-ratio-mismatch test for multinomial counts (Lindon & Malek 2022,
 * "Anytime-valid inference for multinomial count data", NeurIPS; arXiv:2011.03567).
 *
 * Under H0 the arm of each unit is Multinomial(θ0), θ0 = configured weights / Σweights. The e-value
 * is the Bayes factor of a Dirichlet(κ·θ0) mixture against θ0:
 *
 *   E_n = Γ(κ)/Γ(κ + n) · Π_i Γ(κθ0_i + x_i)/Γ(κθ0_i) / Π_i θ0_i^{x_i}
 *
 * a non-negative martingale with E[E_n] = 1 under H0, so by Ville's inequality
 * P(∃n: E_n ≥ 1/a) ≤ a: the sequential p-value p_n = min(1, 1/max_{m≤n} E_m) is valid however often
 * it is checked, and flagging at p_n ≤ a (default 0.001) keeps the false alarm rate ≤ a over the
 * whole experiment. It depends only on the cumulative counts, so checking every tick costs O(arms).
 *
 * Prior concentration κ (default 1,000, as `DEFAULT_SRM_CONCENTRATION`): the prior sd of an arm's
 * share is √(θ0(1 − θ0)/(κ + 1)) ≈ 1.6 percentage points for a 50/50 split, the size of the
 * mismatches real assignment bugs produce. Larger κ detects smaller mismatches at very large n but
 * needs more units for large ones; the guarantee holds for every κ > 0.
 */

export const DEFAULT_SRM_CONCENTRATION = 1000;

export interface SequentialSrmOptions {
  /** Flag when the sequential p-value is ≤ level; default 0.001 (SRM_THRESHOLD). */
  level?: number;
  /** Dirichlet prior concentration κ; default 1,000. */
  concentration?: number;
}

/** Stored per experiment: cumulative counts and the running maximum of log E. */
export interface SrmState {
  method: 'srm-dirichlet-multinomial';
  /** Cumulative units per arm at the last check. */
  counts: number[];
  /** Allocation weights the counts were tested against (normalised). */
  weights: number[];
  concentration: number;
  level: number;
  /** log E_n at the last check. */
  logE: number;
  /** max over all checks of log E (≥ 0 since E_0 = 1). */
  maxLogE: number;
  /** min(1, exp(−maxLogE)). */
  pValue: number;
  /** pValue ≤ level; once true it stays true for this sequence. */
  flagged: boolean;
  checks: number;
}

function normalisedWeights(weights: readonly number[], arms: number): number[] {
  if (weights.length !== arms) throw new StatsInputError('sequential SRM: counts and weights differ in length');
  if (arms < 2) throw new StatsInputError('sequential SRM: fewer than 2 arms');
  if (!weights.every((w) => Number.isFinite(w) && w > 0))
    throw new StatsInputError('sequential SRM: every weight must be a positive number');
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

function checkCounts(counts: readonly number[]): void {
  if (!counts.every((c) => Number.isInteger(c) && c >= 0)) {
    throw new StatsInputError('sequential SRM: counts must be non-negative integers');
  }
}

/** log E_n of the Dirichlet(κθ0)-multinomial mixture against θ0 for cumulative counts x. */
export function srmLogEValue(counts: readonly number[], weights: readonly number[], concentration = DEFAULT_SRM_CONCENTRATION): number {
  checkCounts(counts);
  const theta = normalisedWeights(weights, counts.length);
  if (!(Number.isFinite(concentration) && concentration > 0)) throw new StatsInputError('sequential SRM: concentration must be positive');
  const n = counts.reduce((a, b) => a + b, 0);
  let log = logGamma(concentration) - logGamma(concentration + n);
  for (let i = 0; i < counts.length; i++) {
    const a = concentration * theta[i];
    if (counts[i] > 0) log += logGamma(a + counts[i]) - logGamma(a) - counts[i] * Math.log(theta[i]);
  }
  return log;
}

function checkOptions(o: SequentialSrmOptions): { level: number; concentration: number } {
  const level = o.level ?? SRM_THRESHOLD;
  const concentration = o.concentration ?? DEFAULT_SRM_CONCENTRATION;
  if (!(level > 0 && level < 1)) throw new StatsInputError('sequential SRM: level must be in (0, 1)');
  if (!(Number.isFinite(concentration) && concentration > 0)) throw new StatsInputError('sequential SRM: concentration must be positive');
  return { level, concentration };
}

/**
 * One check: folds the cumulative counts into the state (null for the first check). Counts may
 * never decrease; changing the weights or the prior starts a new state (the old one tested
 * another hypothesis). Checking more often never raises the false alarm rate.
 */
export function advanceSrmState(
  prev: SrmState | null,
  counts: readonly number[],
  weights: readonly number[],
  options: SequentialSrmOptions = {},
): SrmState {
  const { level, concentration } = checkOptions(options);
  checkCounts(counts);
  const theta = normalisedWeights(weights, counts.length);
  const same =
    prev !== null &&
    prev.concentration === concentration &&
    prev.weights.length === theta.length &&
    prev.weights.every((w, i) => Math.abs(w - theta[i]) < 1e-12);
  if (same && prev.counts.some((c, i) => counts[i] < c)) {
    throw new StatsInputError('sequential SRM: cumulative counts decreased since the last check');
  }
  const logE = srmLogEValue(counts, theta, concentration);
  const maxLogE = Math.max(same ? prev.maxLogE : 0, logE);
  const pValue = Math.min(1, Math.exp(-maxLogE));
  return {
    method: 'srm-dirichlet-multinomial',
    counts: [...counts],
    weights: theta,
    concentration,
    level,
    logE,
    maxLogE,
    pValue,
    flagged: pValue <= level,
    checks: (same ? prev.checks : 0) + 1,
  };
}

/** One-shot form (no history): p = min(1, 1/E_n), valid at this check; `advanceSrmState` also covers the past. */
export function sequentialSrmTest(counts: readonly number[], weights: readonly number[], options: SequentialSrmOptions = {}): SrmState {
  return advanceSrmState(null, counts, weights, options);
}
