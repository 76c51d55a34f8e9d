import { twoSidedNormalP, zQuantile } from './distributions';
import { flooredDifferenceVariance } from './proportion-moments';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import type { AlphaOptions, ArmStats, Estimate, EstimateParams } from './types';

const METHOD = 'two-proportion-z';

/**
 * Two-proportion z-test on conversions (ArmStats with sum = conversions). The test statistic uses
 * the pooled rate (the null hypothesis says both arms share it); the interval uses the unpooled
 * Wald standard error, as is standard. At the boundary the two can disagree by construction.
 */
export interface TwoProportionOptions extends AlphaOptions {
  /**
   * Use the floored variance max(pooled, Agresti–Caffo) for both the test and the interval (see
   * proportion-moments.ts), so an arm with 0 or n conversions is not treated as certain and the
   * interval excludes 0 exactly when p ≤ alpha. resultsTable turns it on; default false keeps the
   * textbook pooled-test / unpooled-Wald-interval pairing.
   */
  varianceFloor?: boolean;
}

export function twoProportionZTest(control: ArmStats, treatment: ArmStats, options: TwoProportionOptions = {}): Estimate {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const params: EstimateParams = { alpha, nControl: control.n, nTreatment: treatment.n };
  const bad = alphaProblem(alpha);
  if (bad) return undefinedEstimate(METHOD, params, bad);
  for (const [label, arm] of [
    ['control', control],
    ['treatment', treatment],
  ] as const) {
    if (!Number.isFinite(arm.n) || !Number.isFinite(arm.sum))
      return undefinedEstimate(METHOD, params, `${label}: non-finite input statistics`);
    if (arm.n <= 0) return undefinedEstimate(METHOD, params, `${label}: empty arm (n = 0)`);
    if (arm.sum < 0 || arm.sum > arm.n) return undefinedEstimate(METHOD, params, `${label}: conversions outside [0, n]`);
  }
  const pc = control.sum / control.n;
  const pt = treatment.sum / treatment.n;
  const pooled = (control.sum + treatment.sum) / (control.n + treatment.n);
  if (pooled === 0) return undefinedEstimate(METHOD, params, 'no variation: zero conversions in both arms');
  if (pooled === 1) return undefinedEstimate(METHOD, params, 'no variation: every unit converted in both arms');
  if (options.varianceFloor) {
    const v = flooredDifferenceVariance(control, treatment);
    const seFloor = Math.sqrt(v);
    const zf = (pt - pc) / seFloor;
    params.z = zf;
    params.pooledRate = pooled;
    params.variance = 'max(pooled, agresti-caffo)';
    return definedEstimate(METHOD, params, pt - pc, seFloor, zQuantile(1 - alpha / 2) * seFloor, twoSidedNormalP(zf), alpha);
  }
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  const se = Math.sqrt((pc * (1 - pc)) / control.n + (pt * (1 - pt)) / treatment.n);
  const diff = pt - pc;
  const z = diff / sePooled;
  const half = zQuantile(1 - alpha / 2) * se;
  params.z = z;
  params.pooledRate = pooled;
  return definedEstimate(METHOD, params, diff, se, half, twoSidedNormalP(z), alpha);
}
