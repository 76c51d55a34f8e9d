import { mean, pairProblem, sampleVariance, varianceOfMean } from './arm';
import type { ArmStats } from './types';

/**
 * Point estimate and its (asymptotic) variance for treatment-vs-control contrasts, shared by the
 * fixed-horizon and sequential methods so they always agree on what is being estimated.
 */
export type Moments = { ok: true; estimate: number; variance: number } | { ok: false; reason: string };

/** Difference of means, Var = s_t²/n_t + s_c²/n_c (Welch). */
export function absoluteMoments(control: ArmStats, treatment: ArmStats): Moments {
  const problem = pairProblem(control, treatment);
  if (problem) return { ok: false, reason: problem };
  const variance = varianceOfMean(control) + varianceOfMean(treatment);
  if (!(variance > 0)) return { ok: false, reason: 'zero variance in both arms' };
  return { ok: true, estimate: mean(treatment) - mean(control), variance };
}

/**
 * Relative lift r = ȳ_t / ȳ_c − 1 by the delta method (first-order Taylor expansion of the ratio
 * of two independent means): Var(r) ≈ s_t²/(n_t ȳ_c²) + ȳ_t² s_c²/(n_c ȳ_c⁴).
 */
export function relativeMoments(control: ArmStats, treatment: ArmStats): Moments {
  const problem = pairProblem(control, treatment);
  if (problem) return { ok: false, reason: problem };
  const mc = mean(control);
  const mt = mean(treatment);
  if (mc === 0) return { ok: false, reason: 'zero control mean: relative lift is undefined' };
  const variance = sampleVariance(treatment) / (treatment.n * mc * mc) + (mt * mt * sampleVariance(control)) / (control.n * mc ** 4);
  if (!(variance > 0)) return { ok: false, reason: 'zero variance in both arms' };
  return { ok: true, estimate: mt / mc - 1, variance };
}
