import { relativeMoments, type Moments } from './comparison-moments';
import { twoSidedNormalP, zQuantile } from './distributions';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import type { AlphaOptions, ArmStats, Estimate, EstimateParams } from './types';

const METHOD = 'relative-delta';

/**
 * Relative lift (ȳ_t − ȳ_c)/|ȳ_c| with a delta-method standard error and a normal (z) interval; the
 * delta method is asymptotic, so a t quantile would add false precision. resultsTable uses the
 * log-ratio form of the same test by default (see relative-scale.ts).
 */
export function relativeLiftDelta(control: ArmStats, treatment: ArmStats, options: AlphaOptions = {}): Estimate {
  return zFromMoments(METHOD, relativeMoments(control, treatment), control.n, treatment.n, options.alpha ?? DEFAULT_ALPHA);
}

/** Fixed-horizon z-test and normal interval for any asymptotically normal contrast. */
export function zFromMoments(method: string, m: Moments, nControl: number, nTreatment: number, alpha: number): Estimate {
  const params: EstimateParams = { alpha, nControl, nTreatment };
  const bad = alphaProblem(alpha);
  if (bad) return undefinedEstimate(method, params, bad);
  if (!m.ok) return undefinedEstimate(method, params, m.reason);
  const se = Math.sqrt(m.variance);
  const z = m.estimate / se;
  const half = zQuantile(1 - alpha / 2) * se;
  params.z = z;
  return definedEstimate(method, params, m.estimate, se, half, twoSidedNormalP(z), alpha);
}
