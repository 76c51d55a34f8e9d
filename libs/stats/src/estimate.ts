import type { Estimate, EstimateParams } from './types';

/** Shared constructors for Estimate so every method reports undefined results the same way. */

export const DEFAULT_ALPHA = 0.05;

/** Why an alpha option is unusable, or null. */
export function alphaProblem(alpha: number): string | null {
  return Number.isFinite(alpha) && alpha > 0 && alpha < 1 ? null : 'alpha must be in (0, 1)';
}

/** The placeholder result: finite, not significant, with the reason it could not be computed. */
export function undefinedEstimate(method: string, params: EstimateParams, reason: string): Estimate {
  return { method, params, defined: false, estimate: 0, standardError: 0, ci: null, pValue: 1, significant: false, reason };
}

/**
 * Assembles a defined Estimate, downgrading to undefined if arithmetic overflowed somewhere
 * (e.g. astronomically large inputs) so callers never see NaN or Infinity.
 */
export function definedEstimate(
  method: string,
  params: EstimateParams,
  estimate: number,
  standardError: number,
  halfWidth: number,
  pValue: number,
  alpha: number,
): Estimate {
  const lo = estimate - halfWidth;
  const hi = estimate + halfWidth;
  if (![estimate, standardError, lo, hi, pValue].every(Number.isFinite)) {
    return undefinedEstimate(method, params, 'numerical overflow (non-finite intermediate result)');
  }
  const p = Math.min(1, Math.max(0, pValue));
  return { method, params, defined: true, estimate, standardError, ci: [lo, hi], pValue: p, significant: p <= alpha };
}
