import { sampleVariance } from './arm';
import { absoluteMoments } from './comparison-moments';
import { studentTQuantile, twoSidedTP } from './distributions';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import type { AlphaOptions, ArmStats, Estimate, EstimateParams } from './types';

const METHOD = 'welch-t';

/**
 * Welch's unequal-variance t-test for the difference of means (treatment − control), with the
 * Welch–Satterthwaite degrees of freedom and a t-quantile confidence interval. Fixed horizon:
 * valid only if read once, at the planned sample size.
 */
export function welchTTest(control: ArmStats, treatment: ArmStats, options: AlphaOptions = {}): Estimate {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const params: EstimateParams = { alpha, nControl: control.n, nTreatment: treatment.n };
  const bad = alphaProblem(alpha);
  if (bad) return undefinedEstimate(METHOD, params, bad);
  const m = absoluteMoments(control, treatment);
  if (!m.ok) return undefinedEstimate(METHOD, params, m.reason);
  const df = welchDf(control, treatment);
  const se = Math.sqrt(m.variance);
  const t = m.estimate / se;
  const half = studentTQuantile(1 - alpha / 2, df) * se;
  params.df = df;
  params.t = t;
  return definedEstimate(METHOD, params, m.estimate, se, half, twoSidedTP(t, df), alpha);
}

/** Welch–Satterthwaite df = (a + b)² / (a²/(n_c − 1) + b²/(n_t − 1)), a = s_c²/n_c, b = s_t²/n_t. */
export function welchDf(control: ArmStats, treatment: ArmStats): number {
  const a = sampleVariance(control) / control.n;
  const b = sampleVariance(treatment) / treatment.n;
  return (a + b) ** 2 / ((a * a) / (control.n - 1) + (b * b) / (treatment.n - 1));
}
