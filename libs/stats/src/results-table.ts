import { sequentialConfidenceSequence } from './confidence-sequence';
import { cupedAdjust } from './cuped';
import { DEFAULT_ALPHA } from './estimate';
import { msprt } from './msprt';
import { benjaminiHochberg, bonferroni, type CorrectionResult } from './multiple-comparisons';
import { twoProportionZTest } from './proportions';
import { relativeLiftDelta } from './relative-lift';
import type { ArmStats, CovariateArmStats, Estimate } from './types';
import { welchTTest } from './welch';

/**
 * Everything the results page needs for one metric × variant, and the whole table with a
 * multiple-comparison correction. Sequential estimates are the default display; fixed-horizon
 * ones are shown for reference once the planned sample size is reached.
 */

export type MetricKind = 'mean' | 'proportion';
export type CorrectionMethod = 'benjamini-hochberg' | 'bonferroni' | 'none';

/** Always-valid p-values from the previous read, so the new ones can only go down. */
export interface PreviousPValues {
  sequentialAbsolute?: number;
  sequentialRelative?: number;
  msprt?: number;
}

export interface VariantInput {
  name: string;
  stats: ArmStats | CovariateArmStats;
  previous?: PreviousPValues;
}

export interface MetricInput {
  name: string;
  /** 'proportion' uses the two-proportion z-test for the fixed-horizon absolute difference. */
  kind?: MetricKind;
  control: ArmStats | CovariateArmStats;
  variants: VariantInput[];
}

export interface AnalysisOptions {
  alpha?: number;
  /** N*, planned units per arm (default 5,000). */
  plannedSampleSize?: number;
  /** Use CUPED when every arm carries covariate sums (default true). */
  cuped?: boolean;
  /** mSPRT mixing variance; default derived from the planned MDE (see msprt). */
  tau2?: number;
  /** Across metrics × variants; default Benjamini–Hochberg. */
  correction?: CorrectionMethod;
}

export interface CupedSummary {
  applied: boolean;
  theta: number;
  /** Share of the treatment arm's variance removed. */
  varianceReduction: number;
  reason?: string;
}

export interface ComparisonResult {
  metric: string;
  variant: string;
  cuped: CupedSummary;
  fixed: { absolute: Estimate; relative: Estimate };
  sequential: { absolute: Estimate; relative: Estimate; msprt: Estimate };
}

export type EstimateFamily = 'fixed.absolute' | 'fixed.relative' | 'sequential.absolute' | 'sequential.relative' | 'sequential.msprt';

export const ESTIMATE_FAMILIES: readonly EstimateFamily[] = [
  'fixed.absolute',
  'fixed.relative',
  'sequential.absolute',
  'sequential.relative',
  'sequential.msprt',
];

export interface ResultsTable {
  comparisons: ComparisonResult[];
  correction: {
    method: CorrectionMethod;
    alpha: number;
    /** Hypotheses per family (metrics × variants). */
    m: number;
    /** Alpha each family's intervals were built at (= alpha without correction). */
    ciAlpha: Record<EstimateFamily, number>;
  };
}

function isCovariateArm(arm: ArmStats | CovariateArmStats): arm is CovariateArmStats {
  const c = arm as Partial<CovariateArmStats>;
  return c.covSum !== undefined && c.covSumSq !== undefined && c.crossSum !== undefined;
}

interface Settings {
  alpha: number;
  plannedSampleSize: number | undefined;
}

/** Recomputes one family's estimate for a (possibly adjusted) alpha, keeping tuning fixed. */
function computeFamily(
  family: EstimateFamily,
  kind: MetricKind,
  control: ArmStats,
  treatment: ArmStats,
  alpha: number,
  s: Settings,
  tau2: number | undefined,
  previous: PreviousPValues | undefined,
): Estimate {
  switch (family) {
    case 'fixed.absolute':
      return kind === 'proportion' ? twoProportionZTest(control, treatment, { alpha }) : welchTTest(control, treatment, { alpha });
    case 'fixed.relative':
      return relativeLiftDelta(control, treatment, { alpha });
    case 'sequential.absolute':
    case 'sequential.relative':
      return sequentialConfidenceSequence(control, treatment, {
        alpha,
        tuningAlpha: s.alpha,
        plannedSampleSize: s.plannedSampleSize,
        relative: family === 'sequential.relative',
        previousPValue: family === 'sequential.relative' ? previous?.sequentialRelative : previous?.sequentialAbsolute,
      });
    case 'sequential.msprt':
      return msprt(control, treatment, { alpha, tau2, plannedSampleSize: s.plannedSampleSize, previousPValue: previous?.msprt });
  }
}

interface Cell {
  result: ComparisonResult;
  kind: MetricKind;
  control: ArmStats;
  treatment: ArmStats;
  previous: PreviousPValues | undefined;
}

function getEstimate(r: ComparisonResult, f: EstimateFamily): Estimate {
  switch (f) {
    case 'fixed.absolute': return r.fixed.absolute;
    case 'fixed.relative': return r.fixed.relative;
    case 'sequential.absolute': return r.sequential.absolute;
    case 'sequential.relative': return r.sequential.relative;
    case 'sequential.msprt': return r.sequential.msprt;
  }
}

function setEstimate(r: ComparisonResult, f: EstimateFamily, e: Estimate): void {
  switch (f) {
    case 'fixed.absolute': r.fixed.absolute = e; break;
    case 'fixed.relative': r.fixed.relative = e; break;
    case 'sequential.absolute': r.sequential.absolute = e; break;
    case 'sequential.relative': r.sequential.relative = e; break;
    case 'sequential.msprt': r.sequential.msprt = e; break;
  }
}

function metricCells(metric: MetricInput, s: Settings, options: AnalysisOptions): Cell[] {
  const kind = metric.kind ?? 'mean';
  const arms = [metric.control, ...metric.variants.map((v) => v.stats)];
  let adjusted: ArmStats[] = arms;
  let theta = 0;
  let reduction: number[] = arms.map(() => 0);
  let cupedReason: string | undefined = 'no covariate statistics';
  let applied = false;
  if (options.cuped === false) {
    cupedReason = 'disabled';
  } else if (arms.every(isCovariateArm)) {
    const c = cupedAdjust(arms as CovariateArmStats[]);
    adjusted = c.arms;
    theta = c.theta;
    reduction = c.varianceReduction;
    cupedReason = c.reason;
    applied = c.defined;
  }
  const control = adjusted[0];
  return metric.variants.map((v, i) => {
    const treatment = adjusted[i + 1];
    const e = (f: EstimateFamily) => computeFamily(f, kind, control, treatment, s.alpha, s, options.tau2, v.previous);
    const cuped: CupedSummary = { applied, theta, varianceReduction: reduction[i + 1] };
    if (cupedReason) cuped.reason = cupedReason;
    return {
      kind,
      control,
      treatment,
      previous: v.previous,
      result: {
        metric: metric.name,
        variant: v.name,
        cuped,
        fixed: { absolute: e('fixed.absolute'), relative: e('fixed.relative') },
        sequential: { absolute: e('sequential.absolute'), relative: e('sequential.relative'), msprt: e('sequential.msprt') },
      },
    };
  });
}

/** One treatment against control, no multiple-comparison correction. CUPED pools these two arms. */
export function analyzeComparison(
  control: ArmStats | CovariateArmStats,
  treatment: ArmStats | CovariateArmStats,
  options: AnalysisOptions & { kind?: MetricKind } = {},
): ComparisonResult {
  const s: Settings = { alpha: options.alpha ?? DEFAULT_ALPHA, plannedSampleSize: options.plannedSampleSize };
  const metric: MetricInput = { name: '', kind: options.kind, control, variants: [{ name: '', stats: treatment }] };
  return metricCells(metric, s, options)[0].result;
}

/**
 * The full results table. Each estimate family is corrected separately across all metrics ×
 * variants (undefined comparisons count as p = 1, which is conservative). Intervals are rebuilt at
 * the correction's ciAlpha with the sequential tuning (ρ, τ²) held at the nominal alpha, so an
 * interval excludes 0 exactly when the adjusted p-value is ≤ alpha (up to the pooled-vs-unpooled
 * standard error of the two-proportion z-test). `pValue` stays raw; `adjustedPValue` is added.
 */
export function resultsTable(metrics: MetricInput[], options: AnalysisOptions = {}): ResultsTable {
  const s: Settings = { alpha: options.alpha ?? DEFAULT_ALPHA, plannedSampleSize: options.plannedSampleSize };
  const method = options.correction ?? 'benjamini-hochberg';
  const cells = metrics.flatMap((m) => metricCells(m, s, options));
  const ciAlpha = {} as Record<EstimateFamily, number>;
  for (const family of ESTIMATE_FAMILIES) {
    ciAlpha[family] = s.alpha;
    if (method === 'none' || cells.length === 0) continue;
    const raw = cells.map((c) => getEstimate(c.result, family));
    const correction: CorrectionResult =
      method === 'bonferroni' ? bonferroni(raw.map((e) => e.pValue), s.alpha) : benjaminiHochberg(raw.map((e) => e.pValue), s.alpha);
    ciAlpha[family] = correction.ciAlpha;
    cells.forEach((cell, i) => {
      const original = raw[i];
      const tau2 = family === 'sequential.msprt' && typeof original.params.tau2 === 'number' ? original.params.tau2 : options.tau2;
      const rebuilt =
        original.defined && correction.ciAlpha !== s.alpha
          ? computeFamily(family, cell.kind, cell.control, cell.treatment, correction.ciAlpha, s, tau2, cell.previous)
          : original;
      const adjustedPValue = correction.adjustedPValues[i];
      setEstimate(cell.result, family, {
        ...rebuilt,
        params: { ...rebuilt.params, alpha: s.alpha, ciAlpha: correction.ciAlpha, correction: method },
        pValue: original.pValue,
        adjustedPValue,
        significant: original.defined && adjustedPValue <= s.alpha,
      });
    });
  }
  return { comparisons: cells.map((c) => c.result), correction: { method, alpha: s.alpha, m: cells.length, ciAlpha } };
}
