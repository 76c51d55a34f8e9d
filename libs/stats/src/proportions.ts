import { twoSidedNormalP, zQuantile } from './distributions';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import type { AlphaOptions, ArmStats, Estimate, EstimateParams } from './types';

const METHOD = 'two-proportion-z';

/**
 * Two-proportion z-test on conversions (ArmStats with sum = conversions). The test statistic uses
 * the pooled rate (the null hypothesis says both arms share it); the interval uses the unpooled
 * Wald standard error, as is standard. At the boundary the two can disagree by construction.
 */
export function twoProportionZTest(control: ArmStats, treatment: ArmStats, options: AlphaOptions = {}): Estimate {
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
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  const se = Math.sqrt((pc * (1 - pc)) / control.n + (pt * (1 - pt)) / treatment.n);
  const diff = pt - pc;
  const z = diff / sePooled;
  const half = zQuantile(1 - alpha / 2) * se;
  params.z = z;
  params.pooledRate = pooled;
  return definedEstimate(METHOD, params, diff, se, half, twoSidedNormalP(z), alpha);
}
