import { chiSquareSurvival } from './distributions';

/** SRM is flagged below this p-value: strict, because the check runs on every read. */
export const SRM_THRESHOLD = 0.001;

export interface SrmResult {
  method: 'srm-chi-square';
  defined: boolean;
  reason?: string;
  chiSquare: number;
  df: number;
  pValue: number;
  /** pValue < 0.001. */
  flagged: boolean;
  /** Expected units per arm under the configured weights. */
  expected: number[];
}

/**
 * Sample ratio mismatch: Pearson chi-square goodness of fit of observed units per arm against
 * the configured allocation weights (any positive scale), df = arms − 1.
 */
export function srmTest(counts: number[], weights: number[]): SrmResult {
  const undefinedResult = (reason: string): SrmResult => ({
    method: 'srm-chi-square',
    defined: false,
    reason,
    chiSquare: 0,
    df: 0,
    pValue: 1,
    flagged: false,
    expected: counts.map(() => 0),
  });
  if (counts.length !== weights.length) return undefinedResult('counts and weights differ in length');
  if (counts.length < 2) return undefinedResult('fewer than 2 arms');
  if (![...counts, ...weights].every(Number.isFinite)) return undefinedResult('non-finite input');
  if (counts.some((c) => c < 0)) return undefinedResult('negative count');
  if (weights.some((w) => !(w > 0))) return undefinedResult('every weight must be positive');
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefinedResult('no units assigned yet');
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const expected = weights.map((w) => (total * w) / weightSum);
  let chiSquare = 0;
  for (let i = 0; i < counts.length; i++) chiSquare += (counts[i] - expected[i]) ** 2 / expected[i];
  const df = counts.length - 1;
  const pValue = chiSquareSurvival(chiSquare, df);
  return { method: 'srm-chi-square', defined: true, chiSquare, df, pValue, flagged: pValue < SRM_THRESHOLD, expected };
}
