import { csMultiplier } from './confidence-sequence';
import { studentTQuantile, zQuantile } from './distributions';
import { msprtHalfWidth } from './msprt';
import type { Estimate } from './types';

function num(e: Estimate, key: string): number {
  const v = e.params[key];
  return typeof v === 'number' ? v : Number.NaN;
}

/**
 * Rebuilds an estimate's interval at another alpha, holding its tuning fixed (Welch df, the
 * confidence sequence's tρ², the mSPRT's τ²). Used for multiplicity-adjusted intervals and for
 * showing, say, 90% intervals without recomputing the test. With the tuning fixed, the interval
 * at alpha' excludes 0 exactly when the estimate's p-value is ≤ alpha' (for the two-proportion
 * z-test only up to its pooled-vs-unpooled standard error). Null for undefined estimates.
 */
export function intervalAt(e: Estimate, alpha: number): [number, number] | null {
  if (!e.defined || e.ci === null || !(alpha > 0 && alpha < 1)) return null;
  const se = e.standardError;
  let half: number;
  switch (e.method) {
    case 'welch-t':
      half = studentTQuantile(1 - alpha / 2, num(e, 'df')) * se;
      break;
    case 'relative-delta':
    case 'two-proportion-z':
    case 'ratio-delta':
      half = zQuantile(1 - alpha / 2) * se;
      break;
    case 'confidence-sequence':
      half = csMultiplier(num(e, 'tRho2'), alpha) * se;
      break;
    case 'msprt':
      half = msprtHalfWidth(se * se, num(e, 'tau2'), alpha);
      break;
    default:
      return null;
  }
  if (e.params.interval === 'log-ratio') {
    // Built on the log ratio (standardError is on that scale): rebuild there, then map back.
    const centre = num(e, 'logEstimate');
    const sign = num(e, 'controlSign');
    const a = sign * Math.expm1(centre - half);
    const b = sign * Math.expm1(centre + half);
    const out: [number, number] = sign > 0 ? [a, b] : [b, a];
    return out.every(Number.isFinite) ? out : null;
  }
  const lo = e.estimate - half;
  const hi = e.estimate + half;
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}
