import type { ArmStats } from './types';

/**
 * Moments recovered from sufficient statistics. With a centred sum of squares `m2` the variance is
 * m2/(n − 1) exactly as stored; from raw sums it is (Σy² − (Σy)²/n)/(n − 1), which cancels
 * catastrophically when |mean| ≫ sd. That case is detected (see `varianceProblem`) and reported,
 * never silently turned into "zero variance".
 */

/** Unit roundoff of float64. */
const EPS = 2.220446049250313e-16;

export function mean(arm: ArmStats): number {
  return arm.n > 0 ? arm.sum / arm.n : 0;
}

/** Σ(y − ȳ)² from m2 when given, else from the raw sums (clamped at 0; see varianceProblem). */
function centredSumSq(arm: ArmStats): number {
  if (arm.m2 !== undefined) return Math.max(0, arm.m2);
  return arm.sumSq - (arm.sum * arm.sum) / arm.n;
}

/** Sample variance (n − 1 denominator), 0 when n < 2. */
export function sampleVariance(arm: ArmStats): number {
  if (arm.n < 2) return 0;
  const ss = centredSumSq(arm);
  if (arm.m2 === undefined && ss <= roundingNoise(arm)) return 0;
  return ss / (arm.n - 1);
}

/**
 * Worst plausible rounding error of Σy² − (Σy)²/n accumulated over n float64 additions:
 * ~ε·Σy²·√n (random-walk rounding), times 8 for margin.
 */
function roundingNoise(arm: ArmStats): number {
  return 8 * EPS * Math.abs(arm.sumSq) * Math.sqrt(Math.max(1, arm.n));
}

/**
 * Why the arm's variance cannot be trusted, or null: Σy² < (Σy)²/n beyond rounding (the sums do
 * not come from one set of numbers), or fewer than ~4 significant digits of Σ(y − ȳ)² survive the
 * cancellation (e.g. mean 10⁶ with sd 0.1): then the caller must supply `m2`.
 */
export function varianceProblem(arm: ArmStats): string | null {
  if (arm.n < 2) return null;
  if (arm.m2 !== undefined) {
    if (!Number.isFinite(arm.m2) || arm.m2 < 0) return 'inconsistent statistics: m2 (centred sum of squares) must be ≥ 0';
    return null;
  }
  const ss = arm.sumSq - (arm.sum * arm.sum) / arm.n;
  const noise = roundingNoise(arm);
  if (ss < -noise) return 'inconsistent statistics: Σy² < (Σy)²/n, the sums cannot come from one set of values';
  if (ss !== 0 && Math.abs(ss) < noise * 1e4) {
    return 'variance lost to floating-point cancellation (|mean| ≫ sd): supply the centred sum of squares m2, see combineMoments';
  }
  return null;
}

/** Variance of the arm mean, s²/n. */
export function varianceOfMean(arm: ArmStats): number {
  return arm.n > 0 ? sampleVariance(arm) / arm.n : 0;
}

/** Why an arm cannot enter a comparison of means, or null when it can. */
export function armProblem(arm: ArmStats, minN = 2): string | null {
  if (!Number.isFinite(arm.n) || !Number.isFinite(arm.sum) || !Number.isFinite(arm.sumSq)) {
    return 'non-finite input statistics';
  }
  if (arm.n < 0 || arm.sumSq < 0) return 'invalid input statistics (negative n or sum of squares)';
  if (arm.n === 0) return 'empty arm (n = 0)';
  if (arm.n < minN) return `fewer than ${minN} units in an arm (n < ${minN})`;
  return varianceProblem(arm);
}

/** The first problem of either arm, prefixed with which arm it is. */
export function pairProblem(control: ArmStats, treatment: ArmStats, minN = 2): string | null {
  const c = armProblem(control, minN);
  if (c) return `control: ${c}`;
  const t = armProblem(treatment, minN);
  if (t) return `treatment: ${t}`;
  return null;
}

/** Builds the ArmStats that reproduce a given n, mean and sample variance (used by CUPED). */
export function armFromMoments(n: number, armMean: number, variance: number): ArmStats {
  const m2 = Math.max(0, (n - 1) * variance);
  return { n, sum: n * armMean, sumSq: m2 + n * armMean * armMean, m2 };
}

/** Count, mean and centred sum of squares Σ(y − ȳ)²: what the engine should store per tick. */
export interface CentredMoments {
  n: number;
  mean: number;
  m2: number;
}

/**
 * Combines two (n, mean, M2) triples exactly (Chan, Golub & LeVeque 1979, "Updating formulae and a
 * pairwise algorithm for computing sample variances"): with δ = mean_b − mean_a,
 *   n = n_a + n_b, mean = mean_a + δ·n_b/n, M2 = M2_a + M2_b + δ²·n_a·n_b/n.
 * Numerically stable whatever |mean|/sd is; associative up to rounding, so per-tick triples (e.g.
 * SQL `count(*), avg(y), var_samp(y)·(count − 1)` per new batch) can be folded in any order.
 */
export function combineMoments(a: CentredMoments, b: CentredMoments): CentredMoments {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** Welford's one-pass (n, mean, M2) of raw values. */
export function momentsOfValues(values: readonly number[]): CentredMoments {
  let n = 0;
  let m = 0;
  let m2 = 0;
  for (const y of values) {
    n += 1;
    const d = y - m;
    m += d / n;
    m2 += d * (y - m);
  }
  return { n, mean: m, m2 };
}

/** ArmStats carrying the stable m2 (sum and sumSq filled in for callers that still read them). */
export function armFromCentred(c: CentredMoments): ArmStats {
  return { n: c.n, sum: c.n * c.mean, sumSq: c.m2 + c.n * c.mean * c.mean, m2: c.m2 };
}
