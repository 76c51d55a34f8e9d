import { absoluteMoments, relativeMoments, type Moments } from './comparison-moments';
import { alphaProblem, DEFAULT_ALPHA, definedEstimate, undefinedEstimate } from './estimate';
import { checkedPreviousPValue } from './previous-p';
import type { AlphaOptions, ArmStats, Estimate } from './types';

const METHOD = 'confidence-sequence';

/** Tuning sample size N* (units per arm) when the experiment has no planned sample size. */
export const DEFAULT_PLANNED_SAMPLE_SIZE = 5000;

export interface ConfidenceSequenceOptions extends AlphaOptions {
  /** N*: planned units per arm; ρ is tuned so the interval is tightest there. Default 5,000. */
  plannedSampleSize?: number;
  /** Relative lift (delta method) instead of the absolute difference. */
  relative?: boolean;
  /**
   * Alpha used to tune ρ (default: alpha). The results table keeps ρ at the nominal alpha when it
   * recomputes intervals at a multiplicity-adjusted alpha, so interval and p-value stay consistent.
   */
  tuningAlpha?: number;
  /** Always-valid p-value from the previous read; the returned p is min(previous, current). */
  previousPValue?: number;
}

/**
 * ρ² minimising the boundary width at t = N* (Waudby-Smith et al. 2021, eq. for the optimal ρ):
 * ρ² = (−2 log α + log(−2 log α + 1)) / N*.
 */
export function optimalRhoSquared(alpha: number, plannedSampleSize: number): number {
  const l = -2 * Math.log(alpha);
  return (l + Math.log(l + 1)) / plannedSampleSize;
}

/**
 * Half-width multiplier of the two-sided normal-mixture asymptotic confidence sequence, in units
 * of the standard error: with s = tρ², radius = SE · sqrt( 2(s + 1)/s · log( sqrt(s + 1)/α ) ).
 * This is the paper's σ̂·sqrt(2(tρ² + 1)/(t²ρ²) · log(sqrt(tρ² + 1)/α)) with σ̂ = SE·sqrt(t).
 */
export function csMultiplier(s: number, alpha: number): number {
  return Math.sqrt(((2 * (s + 1)) / s) * Math.log(Math.sqrt(s + 1) / alpha));
}

/**
 * Always-valid p-value of the same boundary: the smallest α whose sequence excludes 0,
 * p = min(1, sqrt(s + 1) · exp(−z² s / (2(s + 1)))) — the reciprocal of the normal-mixture
 * likelihood ratio. Computed in log space so huge |z| underflows to 0 instead of overflowing.
 */
export function csPValue(z: number, s: number): number {
  return Math.min(1, Math.exp(0.5 * Math.log1p(s) - (z * z * s) / (2 * (s + 1))));
}

/**
 * Asymptotic confidence sequence (Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas 2021,
 * "Time-uniform central limit theory and asymptotic confidence sequences", arXiv 2103.06476).
 *
 * Two-sample choice: the contrast's estimator has variance V = s_c²/n_c + s_t²/n_t. We treat it as
 * a mean of t = (n_c + n_t)/2 per-arm "observations" with per-observation variance σ̂² = V·t, so
 * radius = σ̂·(paper's boundary at t) = SE·csMultiplier(tρ², α). N* is in the same per-arm units,
 * so only the information fraction t/N* enters the boundary. With equal arms this is exactly the
 * paper's two-sample construction; with unequal arms t is the mean arm size.
 */
export function sequentialConfidenceSequence(control: ArmStats, treatment: ArmStats, options: ConfidenceSequenceOptions = {}): Estimate {
  const relative = options.relative ?? false;
  const m = relative ? relativeMoments(control, treatment) : absoluteMoments(control, treatment);
  return confidenceSequenceFromMoments(m, control.n, treatment.n, options);
}

/**
 * The same confidence sequence for any contrast with an asymptotically normal estimate and a
 * consistent variance (e.g. ratio metrics by the delta method). `relative` only labels the scale.
 */
export function confidenceSequenceFromMoments(
  m: Moments,
  nControl: number,
  nTreatment: number,
  options: ConfidenceSequenceOptions = {},
): Estimate {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const tuningAlpha = options.tuningAlpha ?? alpha;
  const plannedSampleSize = options.plannedSampleSize ?? DEFAULT_PLANNED_SAMPLE_SIZE;
  const relative = options.relative ?? false;
  const params: Record<string, number | string> = {
    alpha,
    scale: relative ? 'relative' : 'absolute',
    plannedSampleSize,
    tuningAlpha,
    nControl,
    nTreatment,
  };
  if (options.previousPValue !== undefined) checkedPreviousPValue(options.previousPValue);
  const bad = alphaProblem(alpha) ?? alphaProblem(tuningAlpha);
  if (bad) return undefinedEstimate(METHOD, params, bad);
  if (!(plannedSampleSize > 0) || !Number.isFinite(plannedSampleSize)) {
    return undefinedEstimate(METHOD, params, 'plannedSampleSize must be a positive number');
  }
  const rho2 = optimalRhoSquared(tuningAlpha, plannedSampleSize);
  params.rho = Math.sqrt(rho2);
  if (!m.ok) return undefinedEstimate(METHOD, params, m.reason);
  const t = (nControl + nTreatment) / 2;
  const s = t * rho2;
  const se = Math.sqrt(m.variance);
  const z = m.estimate / se;
  let p = csPValue(z, s);
  if (options.previousPValue !== undefined) p = Math.min(p, options.previousPValue);
  params.t = t;
  params.tRho2 = s;
  params.z = z;
  // log of this read's mixture likelihood ratio (the e-value e-BH uses; not the running one).
  params.logEValue = (z * z * s) / (2 * (s + 1)) - 0.5 * Math.log1p(s);
  return definedEstimate(METHOD, params, m.estimate, se, csMultiplier(s, alpha) * se, p, alpha);
}
