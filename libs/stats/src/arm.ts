import type { ArmStats } from './types';

/**
 * Moments recovered from sufficient statistics. Variances come from Σy² − (Σy)²/n, which loses
 * digits when |mean| ≫ sd; tiny negative results of that cancellation are clamped to zero.
 */

export function mean(arm: ArmStats): number {
  return arm.n > 0 ? arm.sum / arm.n : 0;
}

/** Sample variance (n − 1 denominator), 0 when n < 2. */
export function sampleVariance(arm: ArmStats): number {
  if (arm.n < 2) return 0;
  const ss = arm.sumSq - (arm.sum * arm.sum) / arm.n;
  // Relative cancellation guard: anything below ~1e-13 of Σy² is rounding noise, not spread.
  if (ss <= Math.abs(arm.sumSq) * 1e-13) return 0;
  return ss / (arm.n - 1);
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
  return null;
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
  return { n, sum: n * armMean, sumSq: (n - 1) * variance + n * armMean * armMean };
}
