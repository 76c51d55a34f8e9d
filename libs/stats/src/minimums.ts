import type { ArmStats, Estimate } from './types';

/**
 * Minimum data before a comparison may be called significant (GrowthBook's "minimum sample size"
 * guard, docs.growthbook.io/app/metrics: by default 150 before results are shown). Below these the
 * normal approximations behind every method are unreliable (a 100-unit arm with 0 conversions, a
 * 1,000-unit arm of lognormal revenue), so the estimate and interval are shown but `significant`
 * is false and `insufficient` says what the comparison waits for.
 *
 * - `unitsPerArm` (default 150): units in each of control and treatment.
 * - `events` (default 30): conversions in control + treatment together, for conversion metrics.
 *   Counted over both arms on purpose: a zero baseline (0 crashes in control vs 60 in treatment)
 *   is exactly what a guardrail must be able to detect.
 * Configurable per metric (`MetricInput.minimums`) and per table (`AnalysisOptions.minimums`).
 */
export interface SampleMinimums {
  unitsPerArm: number;
  events: number;
}

export const DEFAULT_MINIMUMS: Readonly<SampleMinimums> = { unitsPerArm: 150, events: 30 };

/** What the comparison still waits for, or null when it has enough data. */
export function insufficientSample(
  control: ArmStats,
  treatment: ArmStats,
  kind: 'mean' | 'proportion' | 'ratio',
  minimums: Partial<SampleMinimums> = {},
): string | null {
  const m = { ...DEFAULT_MINIMUMS, ...minimums };
  const small = Math.min(control.n, treatment.n);
  if (small < m.unitsPerArm) {
    const which = control.n <= treatment.n ? 'control' : 'treatment';
    return `needs at least ${m.unitsPerArm} units per arm before it can be significant (${which} has ${small})`;
  }
  if (kind === 'proportion') {
    const events = control.sum + treatment.sum;
    if (events < m.events)
      return `needs at least ${m.events} conversions across control and treatment before it can be significant (has ${events})`;
  }
  return null;
}

/** Marks an estimate as not yet significant (in place; the estimates are the caller's own). */
export function applyMinimum(e: Estimate, why: string | null): Estimate {
  if (why === null || !e.defined) return e;
  e.insufficient = why;
  e.significant = false;
  return e;
}
