import type { Estimate } from './types';

/**
 * Direction-aware verdicts for one treatment-vs-control comparison.
 *
 * Benefit and harm are read from the ABSOLUTE difference and the metric's good direction, never
 * from the sign of a relative lift (a negative baseline flips ȳ_t/ȳ_c − 1). Significance comes from
 * the sequential relative test when it is defined, and from the sequential absolute test when the
 * relative lift is undefined (zero baseline: 0 crashes in control vs 60 in treatment is still
 * harm, and a primary metric with a zero baseline can still ship).
 */

export type MetricDirectionInput = 'increase' | 'decrease';

export interface SequentialPair {
  absolute: Estimate;
  relative: Estimate;
}

export interface EffectVerdict {
  outcome: 'benefit' | 'harm' | 'no_effect_shown' | 'insufficient_data';
  /** Which estimate decided significance. */
  basis: 'relative' | 'absolute' | 'none';
  /** The deciding estimate's (adjusted, if corrected) p-value; 1 when insufficient. */
  pValue: number;
  reason: string;
}

function deciding(pair: SequentialPair): { e: Estimate; basis: 'relative' | 'absolute' } | null {
  if (pair.relative.defined) return { e: pair.relative, basis: 'relative' };
  if (pair.absolute.defined) return { e: pair.absolute, basis: 'absolute' };
  return null;
}

/** +1 / −1 when the estimate's interval lies wholly above / below 0, else 0. */
function side(e: Estimate): number {
  if (!e.defined || e.ci === null) return 0;
  return e.ci[0] > 0 ? 1 : e.ci[1] < 0 ? -1 : 0;
}

/** Benefit / harm / nothing shown for a primary or secondary metric. */
export function effectVerdict(pair: SequentialPair, direction: MetricDirectionInput): EffectVerdict {
  const d = deciding(pair);
  if (d === null) {
    return {
      outcome: 'insufficient_data',
      basis: 'none',
      pValue: 1,
      reason: pair.absolute.reason ?? pair.relative.reason ?? 'not defined',
    };
  }
  const p = d.e.adjustedPValue ?? d.e.pValue;
  if (d.e.insufficient !== undefined) return { outcome: 'insufficient_data', basis: d.basis, pValue: p, reason: d.e.insufficient };
  const basisNote =
    d.basis === 'absolute' ? ` (relative lift undefined: ${pair.relative.reason ?? 'no baseline'}; absolute test used)` : '';
  if (!d.e.significant) return { outcome: 'no_effect_shown', basis: d.basis, pValue: p, reason: `not significant${basisNote}` };
  // The sign of the absolute difference, not of the relative lift, says which way the metric moved:
  // the side of 0 its interval lies on when it excludes 0 (with monotone state that is the running
  // intersection, so a latched significance keeps its direction), else its point estimate.
  const diff = side(pair.absolute) || side(d.e) || (pair.absolute.defined ? pair.absolute.estimate : d.e.estimate);
  const good = direction === 'increase' ? diff > 0 : diff < 0;
  return {
    outcome: good ? 'benefit' : 'harm',
    basis: d.basis,
    pValue: p,
    reason: `${good ? 'better' : 'worse'} in the metric's good direction (${direction})${basisNote}`,
  };
}

export interface GuardrailVerdict {
  status: 'ok' | 'harm' | 'insufficient_data';
  basis: 'relative' | 'absolute' | 'none';
  /** Interval of the change oriented so that positive is harm (relative or absolute per `basis`). */
  harmCi: [number, number] | null;
  harmEstimate: number;
  message: string;
}

/**
 * Guardrail: harm when the harm-oriented always-valid interval lies wholly above 0 and the harm
 * estimate exceeds `harmThreshold` (a relative tolerance, e.g. 0.02 for 2%). When the relative
 * lift is undefined the absolute interval decides and the relative threshold cannot apply (there
 * is no baseline to scale it by), which the message states.
 */
export function guardrailVerdict(pair: SequentialPair, direction: MetricDirectionInput, harmThreshold = 0): GuardrailVerdict {
  const d = deciding(pair);
  if (d === null || d.e.ci === null) {
    return {
      status: 'insufficient_data',
      basis: 'none',
      harmCi: null,
      harmEstimate: 0,
      message: pair.absolute.reason ?? pair.relative.reason ?? 'not defined',
    };
  }
  const sign = direction === 'increase' ? -1 : 1;
  const harmCi: [number, number] = sign === 1 ? [d.e.ci[0], d.e.ci[1]] : [-d.e.ci[1], -d.e.ci[0]];
  const harmEstimate = sign * d.e.estimate;
  if (d.e.insufficient !== undefined)
    return { status: 'insufficient_data', basis: d.basis, harmCi, harmEstimate, message: d.e.insufficient };
  const threshold = d.basis === 'relative' ? harmThreshold : 0;
  const harm = harmCi[0] > 0 && harmEstimate > threshold;
  const scale = d.basis === 'relative' ? 'relative' : 'absolute (relative lift undefined, threshold not applied)';
  return {
    status: harm ? 'harm' : 'ok',
    basis: d.basis,
    harmCi,
    harmEstimate,
    message: harm ? `harm shown on the ${scale} scale` : `no harm shown on the ${scale} scale`,
  };
}
