import { absoluteMoments, relativeMoments, type Moments } from './comparison-moments';
import { DEFAULT_PLANNED_SAMPLE_SIZE } from './confidence-sequence';
import { zQuantile } from './distributions';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import { checkedPreviousPValue } from './previous-p';
import type { AlphaOptions, ArmStats, Estimate } from './types';

const METHOD = 'msprt';

export interface MsprtOptions extends AlphaOptions {
  /**
   * Mixing variance τ² of the N(0, τ²) prior over the effect, in the units of the estimate
   * (absolute difference, or relative lift when `relative`). Default: the squared effect a
   * fixed-horizon test at N* units per arm detects with 80% power (see defaultTau2).
   */
  tau2?: number;
  /** N* (units per arm) used only for the default τ²; default 5,000. */
  plannedSampleSize?: number;
  relative?: boolean;
  /** Always-valid p from the previous read: p_n = min(p_{n−1}, 1/Λ_n). */
  previousPValue?: number;
}

/**
 * Default τ² = ((z_{1−α/2} + z_{0.8})² · σ̂²_unit / N*), the squared minimum detectable effect of
 * the planned experiment. Johari et al. recommend matching τ to the effects one expects to see;
 * the planned MDE is the best available proxy. σ̂²_unit = V·t is the per-arm-unit variance of
 * the contrast (plug-in, as in the paper's unknown-variance case).
 */
export function defaultTau2(variance: number, t: number, alpha: number, plannedSampleSize: number): number {
  const k = zQuantile(1 - alpha / 2) + zQuantile(0.8);
  return (k * k * variance * t) / plannedSampleSize;
}

/**
 * Normal-mixture mSPRT (Johari, Koomen, Pekelis & Walsh 2017/2022, "Always Valid Inference").
 * For an estimate θ̂ with variance V and mixing distribution N(0, τ²):
 *   Λ_n = sqrt(V/(V + τ²)) · exp( θ̂² τ² / (2V(V + τ²)) ),
 * always-valid p_n = min(p_{n−1}, 1/Λ_n), and the always-valid interval is the set of θ₀ with
 * Λ_n(θ₀) < 1/α: θ̂ ± sqrt( 2V(V + τ²)/τ² · log( sqrt((V + τ²)/V) / α ) ).
 */
export function msprt(control: ArmStats, treatment: ArmStats, options: MsprtOptions = {}): Estimate {
  const m = options.relative ? relativeMoments(control, treatment) : absoluteMoments(control, treatment);
  return msprtFromMoments(m, control.n, treatment.n, options);
}

/** The same mSPRT for any asymptotically normal contrast (e.g. ratio metrics). */
export function msprtFromMoments(m: Moments, nControl: number, nTreatment: number, options: MsprtOptions = {}): Estimate {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const relative = options.relative ?? false;
  const plannedSampleSize = options.plannedSampleSize ?? DEFAULT_PLANNED_SAMPLE_SIZE;
  const params: Record<string, number | string> = {
    alpha,
    scale: relative ? 'relative' : 'absolute',
    nControl,
    nTreatment,
  };
  if (options.previousPValue !== undefined) checkedPreviousPValue(options.previousPValue);
  const bad = alphaProblem(alpha);
  if (bad) return undefinedEstimate(METHOD, params, bad);
  if (options.tau2 !== undefined && !(options.tau2 > 0 && Number.isFinite(options.tau2))) {
    return undefinedEstimate(METHOD, params, 'tau2 must be a positive number');
  }
  if (options.tau2 === undefined && !(plannedSampleSize > 0 && Number.isFinite(plannedSampleSize))) {
    return undefinedEstimate(METHOD, params, 'plannedSampleSize must be a positive number');
  }
  if (!m.ok) return undefinedEstimate(METHOD, params, m.reason);
  const v = m.variance;
  const t = (nControl + nTreatment) / 2;
  const tau2 = options.tau2 ?? defaultTau2(v, t, alpha, plannedSampleSize);
  params.tau2 = tau2;
  params.tau2Source = options.tau2 === undefined ? 'planned-mde' : 'given';
  // log Λ, so very strong evidence does not overflow; p underflows harmlessly to 0.
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (m.estimate * m.estimate * tau2) / (2 * v * (v + tau2));
  params.logLikelihoodRatio = logLambda;
  params.logEValue = logLambda;
  let p = Math.min(1, Math.exp(-logLambda));
  if (options.previousPValue !== undefined) p = Math.min(p, options.previousPValue);
  return definedEstimate(METHOD, params, m.estimate, Math.sqrt(v), msprtHalfWidth(v, tau2, alpha), p, alpha);
}

/** Half-width of the always-valid mSPRT interval {θ₀ : Λ_n(θ₀) < 1/α}. */
export function msprtHalfWidth(variance: number, tau2: number, alpha: number): number {
  const v = variance;
  return Math.sqrt(((2 * v * (v + tau2)) / tau2) * Math.log(Math.sqrt((v + tau2) / v) / alpha));
}
