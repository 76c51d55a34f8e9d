import { relativeMoments } from './comparison-moments';
import { twoSidedNormalP, zQuantile } from './distributions';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import type { AlphaOptions, ArmStats, Estimate, EstimateParams } from './types';

const METHOD = 'relative-delta';

/**
 * Relative lift ȳ_t/ȳ_c − 1 with a delta-method standard error and a normal (z) interval; the
 * delta method is asymptotic, so a t quantile would add false precision.
 */
export function relativeLiftDelta(control: ArmStats, treatment: ArmStats, options: AlphaOptions = {}): Estimate {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const params: EstimateParams = { alpha, nControl: control.n, nTreatment: treatment.n };
  const bad = alphaProblem(alpha);
  if (bad) return undefinedEstimate(METHOD, params, bad);
  const m = relativeMoments(control, treatment);
  if (!m.ok) return undefinedEstimate(METHOD, params, m.reason);
  const se = Math.sqrt(m.variance);
  const z = m.estimate / se;
  const half = zQuantile(1 - alpha / 2) * se;
  params.z = z;
  return definedEstimate(METHOD, params, m.estimate, se, half, twoSidedNormalP(z), alpha);
}
