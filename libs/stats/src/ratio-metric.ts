import type { Moments } from './comparison-moments';
import { twoSidedNormalP, zQuantile } from './distributions';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import type { AlphaOptions, Estimate, EstimateParams, RatioArmStats } from './types';

const METHOD = 'ratio-delta';

export interface RatioMetricOptions extends AlphaOptions {
  /** Compare R_t/R_c − 1 instead of R_t − R_c. */
  relative?: boolean;
}

export type RatioMoments = { ok: true; ratio: number; variance: number } | { ok: false; reason: string };

/**
 * One arm's ratio R = Σnum/Σden = ȳ/x̄ and its delta-method variance (Deng et al. 2018):
 * Var(R) ≈ (1/n)·(s_y²/x̄² − 2ȳ s_xy/x̄³ + ȳ² s_x²/x̄⁴), with n − 1 sample moments.
 * Units (e.g. users) are the randomisation unit, so the per-unit pairs are i.i.d.
 */
export function ratioArmMoments(arm: RatioArmStats): RatioMoments {
  const values = [arm.n, arm.sumNum, arm.sumNumSq, arm.sumDen, arm.sumDenSq, arm.sumNumDen];
  if (!values.every(Number.isFinite)) return { ok: false, reason: 'non-finite input statistics' };
  if (arm.n <= 0) return { ok: false, reason: 'empty arm (n = 0)' };
  if (arm.n < 2) return { ok: false, reason: 'fewer than 2 units in an arm (n < 2)' };
  if (arm.sumDen === 0) return { ok: false, reason: 'zero denominator sum: ratio is undefined' };
  const n = arm.n;
  const my = arm.sumNum / n;
  const mx = arm.sumDen / n;
  const vy = (arm.sumNumSq - n * my * my) / (n - 1);
  const vx = (arm.sumDenSq - n * mx * mx) / (n - 1);
  const cxy = (arm.sumNumDen - n * mx * my) / (n - 1);
  const variance = Math.max(0, (vy / mx ** 2 - (2 * my * cxy) / mx ** 3 + (my * my * vx) / mx ** 4) / n);
  return { ok: true, ratio: my / mx, variance };
}

/**
 * Treatment-vs-control contrast of two ratio metrics: absolute R_t − R_c with Var_t + Var_c, or
 * relative R_t/R_c − 1 with Var_t/R_c² + R_t² Var_c/R_c⁴ (delta method again). Shared by the
 * fixed-horizon test below and the sequential ratio methods.
 */
export function ratioContrastMoments(control: RatioArmStats, treatment: RatioArmStats, relative: boolean): Moments {
  const c = ratioArmMoments(control);
  if (!c.ok) return { ok: false, reason: `control: ${c.reason}` };
  const t = ratioArmMoments(treatment);
  if (!t.ok) return { ok: false, reason: `treatment: ${t.reason}` };
  let estimate: number;
  let variance: number;
  if (relative) {
    if (c.ratio === 0) return { ok: false, reason: 'zero control ratio: relative lift is undefined' };
    estimate = t.ratio / c.ratio - 1;
    variance = t.variance / c.ratio ** 2 + (t.ratio ** 2 * c.variance) / c.ratio ** 4;
  } else {
    estimate = t.ratio - c.ratio;
    variance = t.variance + c.variance;
  }
  if (!(variance > 0)) return { ok: false, reason: 'zero variance in both arms' };
  return { ok: true, estimate, variance };
}

/** Compares two ratio metrics (absolute or relative) with a delta-method z-test and interval. */
export function ratioMetric(control: RatioArmStats, treatment: RatioArmStats, options: RatioMetricOptions = {}): Estimate {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const relative = options.relative ?? false;
  const params: EstimateParams = { alpha, scale: relative ? 'relative' : 'absolute', nControl: control.n, nTreatment: treatment.n };
  const bad = alphaProblem(alpha);
  if (bad) return undefinedEstimate(METHOD, params, bad);
  const m = ratioContrastMoments(control, treatment, relative);
  if (!m.ok) return undefinedEstimate(METHOD, params, m.reason);
  const se = Math.sqrt(m.variance);
  const z = m.estimate / se;
  params.z = z;
  return definedEstimate(METHOD, params, m.estimate, se, zQuantile(1 - alpha / 2) * se, twoSidedNormalP(z), alpha);
}
