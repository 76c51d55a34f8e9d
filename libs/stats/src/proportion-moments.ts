import type { Moments } from './comparison-moments';
import type { ArmStats } from './types';

/**
 * Contrasts of two conversion rates with a variance floor, so an arm with 0 (or n) conversions is
 * never treated as having zero variance.
 *
 * The variance used is max(V_pooled, V_AC):
 *  - V_pooled = p̂(1 − p̂)(1/n_c + 1/n_t) with the pooled rate p̂ — the variance under H0: p_c = p_t,
 *    as in the two-proportion score test (Agresti 2013, §3.1.3);
 *  - V_AC = p̃_c(1 − p̃_c)/(n_c + 2) + p̃_t(1 − p̃_t)/(n_t + 2), p̃ = (x + 1)/(n + 2), the
 *    Agresti–Caffo (2000) add-one-success-one-failure variance ("Simple and effective confidence
 *    intervals for proportions and differences of proportions result from adding two successes
 *    and two failures", The American Statistician 54(4)).
 * Taking the larger keeps the interval and the test on one variance (so the interval excludes 0
 * exactly when p ≤ alpha) and never below either. 900/60 vs 100/0 gives z ≈ 2.7 (Fisher exact
 * p = 0.0029) instead of the unpooled Wald z ≈ 8; 0/10 vs 10/10 gets a non-degenerate interval.
 */

export function proportionProblem(arm: ArmStats, label: string): string | null {
  if (!Number.isFinite(arm.n) || !Number.isFinite(arm.sum)) return `${label}: non-finite input statistics`;
  if (arm.n <= 0) return `${label}: empty arm (n = 0)`;
  if (arm.n < 2) return `${label}: fewer than 2 units in an arm (n < 2)`;
  if (arm.sum < 0 || arm.sum > arm.n) return `${label}: inconsistent statistics: conversions outside [0, n]`;
  return null;
}

function pair(control: ArmStats, treatment: ArmStats): string | null {
  return proportionProblem(control, 'control') ?? proportionProblem(treatment, 'treatment');
}

/** The floored variance of p_t − p_c (see the module comment). */
export function flooredDifferenceVariance(control: ArmStats, treatment: ArmStats): number {
  const pooled = (control.sum + treatment.sum) / (control.n + treatment.n);
  const vPooled = pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n);
  const ac = (a: ArmStats) => {
    const p = (a.sum + 1) / (a.n + 2);
    return (p * (1 - p)) / (a.n + 2);
  };
  return Math.max(vPooled, ac(control) + ac(treatment));
}

/** p_t − p_c with the floored variance. Defined whenever both arms have ≥ 2 units. */
export function proportionMoments(control: ArmStats, treatment: ArmStats): Moments {
  const problem = pair(control, treatment);
  if (problem) return { ok: false, reason: problem };
  return {
    ok: true,
    estimate: treatment.sum / treatment.n - control.sum / control.n,
    variance: flooredDifferenceVariance(control, treatment),
  };
}

/**
 * log(p_t/p_c) with the floored variance on the log scale: max of the pooled
 * (1 − p̂)/p̂ · (1/n_c + 1/n_t) and the add-one Σ(1 − p̃)/((n + 2)p̃). Undefined when either arm has
 * no conversion (the log ratio is −∞ or +∞; the caller falls back to the delta method).
 */
export function proportionLogRatioMoments(control: ArmStats, treatment: ArmStats): Moments {
  const problem = pair(control, treatment);
  if (problem) return { ok: false, reason: problem };
  if (control.sum === 0)
    return { ok: false, reason: 'zero conversions in control: relative lift is undefined (use the absolute difference)' };
  if (treatment.sum === 0) return { ok: false, reason: 'zero conversions in treatment: no log ratio' };
  const pooled = (control.sum + treatment.sum) / (control.n + treatment.n);
  const vPooled = pooled < 1 ? ((1 - pooled) / pooled) * (1 / control.n + 1 / treatment.n) : 0;
  const ac = (a: ArmStats) => {
    const p = (a.sum + 1) / (a.n + 2);
    return (1 - p) / ((a.n + 2) * p);
  };
  const variance = Math.max(vPooled, ac(control) + ac(treatment));
  return { ok: true, estimate: Math.log(treatment.sum / treatment.n / (control.sum / control.n)), variance };
}

/** Relative lift (p_t − p_c)/p_c by the delta method on the floored variance (fallback of the log ratio). */
export function proportionRelativeMoments(control: ArmStats, treatment: ArmStats): Moments {
  const d = proportionMoments(control, treatment);
  if (!d.ok) return d;
  const pc = control.sum / control.n;
  if (pc === 0) return { ok: false, reason: 'zero conversions in control: relative lift is undefined (use the absolute difference)' };
  const pt = treatment.sum / treatment.n;
  // Var(r) ≈ V_t/p_c² + p_t² V_c/p_c⁴ with the floored total in place of V_t + V_c (conservative).
  const variance = d.variance / (pc * pc) + (pt * pt * d.variance) / pc ** 4;
  return { ok: true, estimate: d.estimate / pc, variance };
}
