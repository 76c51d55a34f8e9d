import { absoluteMoments, flooredAbsoluteMoments, type Moments } from './comparison-moments';
import { confidenceSequenceFromMoments } from './confidence-sequence';
import { cupedAdjust } from './cuped';
import { DEFAULT_ALPHA } from './estimate';
import { intervalAt } from './interval';
import { applyMinimum, insufficientSample, type SampleMinimums } from './minimums';
import { msprtFromMoments } from './msprt';
import { benjaminiHochberg, bonferroni, eBenjaminiHochberg, type CorrectionResult } from './multiple-comparisons';
import { twoProportionZTest } from './proportions';
import { proportionMoments } from './proportion-moments';
import { zFromMoments } from './relative-lift';
import { relativeEstimate, type RelativeIntervalMethod } from './relative-scale';
import { ratioMetric } from './ratio-metric';
import { ratioConfidenceSequence, ratioMsprt } from './ratio-sequential';
import type { ArmStats, CovariateArmStats, Estimate, RatioArmStats } from './types';
import { welchTTest } from './welch';

/**
 * Everything the results page needs for one metric × variant, and the whole table with a
 * multiple-comparison correction. Sequential estimates are the default display; fixed-horizon
 * ones are shown for reference once the planned sample size is reached.
 */

export type MetricKind = 'mean' | 'proportion' | 'ratio';
/**
 * 'e-bh' (default): e-BH on each sequential estimate's current e-value (FDR under arbitrary
 * dependence at any stopping time), BH on the fixed-horizon p-values. 'benjamini-hochberg' and
 * 'bonferroni' apply to every family; see README "Multiple comparisons" for each guarantee.
 */
export type CorrectionMethod = 'e-bh' | 'benjamini-hochberg' | 'bonferroni' | 'none';

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
  kind?: 'mean' | 'proportion';
  control: ArmStats | CovariateArmStats;
  variants: VariantInput[];
  /** Overrides the table's minimum units per arm / events before significance. */
  minimums?: Partial<SampleMinimums>;
}

export interface RatioVariantInput {
  name: string;
  stats: RatioArmStats;
  previous?: PreviousPValues;
}

/** A ratio metric (Σnum/Σden per arm): delta method throughout, no CUPED. */
export interface RatioMetricInput {
  name: string;
  kind: 'ratio';
  control: RatioArmStats;
  variants: RatioVariantInput[];
  minimums?: Partial<SampleMinimums>;
}

export interface AnalysisOptions {
  alpha?: number;
  /** N*, planned units per arm (default 5,000). */
  plannedSampleSize?: number;
  /** Use CUPED when every arm carries covariate sums (default true). */
  cuped?: boolean;
  /** mSPRT mixing variance; default derived from the planned MDE (see msprt). */
  tau2?: number;
  /** Across metrics × variants; default 'e-bh' (e-BH for sequential families, BH for fixed ones). */
  correction?: CorrectionMethod;
  /** Relative intervals on the log-ratio scale (default; never below −100%) or by the plain delta method. */
  relativeInterval?: RelativeIntervalMethod;
  /**
   * Variance floors (default true): conversions use max(pooled, Agresti–Caffo); mean metrics
   * max(Welch, pooled-over-all-units) (see flooredAbsoluteMoments). False gives the textbook
   * Welch / Wald variances.
   */
  varianceFloor?: boolean;
  /** Minimum units per arm / conversions before significance; defaults DEFAULT_MINIMUMS (150 / 30). */
  minimums?: Partial<SampleMinimums>;
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
    /** The correction each family actually got (e-bh → 'e-bh' for sequential, 'benjamini-hochberg' for fixed). */
    applied: Record<EstimateFamily, CorrectionResult['method'] | 'none'>;
  };
}

function isCovariateArm(arm: ArmStats | CovariateArmStats): arm is CovariateArmStats {
  const c = arm as Partial<CovariateArmStats>;
  return c.covSum !== undefined && c.covSumSq !== undefined && c.crossSum !== undefined;
}

interface Settings {
  alpha: number;
  plannedSampleSize: number | undefined;
  tau2: number | undefined;
  relativeInterval: RelativeIntervalMethod;
  varianceFloor: boolean;
  minimums: Partial<SampleMinimums>;
}

type Comparisons = Pick<ComparisonResult, 'fixed' | 'sequential'>;

function compareRatio(control: RatioArmStats, treatment: RatioArmStats, s: Settings, previous?: PreviousPValues): Comparisons {
  const { alpha, plannedSampleSize } = s;
  return {
    fixed: { absolute: ratioMetric(control, treatment, { alpha }), relative: ratioMetric(control, treatment, { alpha, relative: true }) },
    sequential: {
      absolute: ratioConfidenceSequence(control, treatment, { alpha, plannedSampleSize, previousPValue: previous?.sequentialAbsolute }),
      relative: ratioConfidenceSequence(control, treatment, {
        alpha,
        plannedSampleSize,
        relative: true,
        previousPValue: previous?.sequentialRelative,
      }),
      msprt: ratioMsprt(control, treatment, { alpha, plannedSampleSize, tau2: s.tau2, previousPValue: previous?.msprt }),
    },
  };
}

function compare(kind: MetricKind, control: ArmStats, treatment: ArmStats, s: Settings, previous?: PreviousPValues): Comparisons {
  const { alpha, plannedSampleSize } = s;
  const proportion = kind === 'proportion' && s.varianceFloor;
  const absolute: Moments = proportion
    ? proportionMoments(control, treatment)
    : s.varianceFloor
      ? flooredAbsoluteMoments(control, treatment)
      : absoluteMoments(control, treatment);
  const relKind = proportion ? 'proportion' : 'mean';
  const cs = (m: Moments, relative: boolean, previousPValue: number | undefined) =>
    confidenceSequenceFromMoments(m, control.n, treatment.n, { alpha, plannedSampleSize, relative, previousPValue });
  return {
    fixed: {
      absolute:
        kind === 'proportion'
          ? twoProportionZTest(control, treatment, { alpha, varianceFloor: s.varianceFloor })
          : welchTTest(control, treatment, { alpha }),
      relative: relativeEstimate(
        control,
        treatment,
        relKind,
        s.relativeInterval,
        (m) => zFromMoments('relative-delta', m, control.n, treatment.n, alpha),
        s.varianceFloor,
      ),
    },
    sequential: {
      absolute: cs(absolute, false, previous?.sequentialAbsolute),
      relative: relativeEstimate(
        control,
        treatment,
        relKind,
        s.relativeInterval,
        (m) => cs(m, true, previous?.sequentialRelative),
        s.varianceFloor,
      ),
      msprt: msprtFromMoments(absolute, control.n, treatment.n, {
        alpha,
        plannedSampleSize,
        tau2: s.tau2,
        previousPValue: previous?.msprt,
      }),
    },
  };
}

/** Applies the minimum-sample rule to every estimate of a comparison. */
function gate(r: Comparisons, why: string | null): Comparisons {
  for (const e of [r.fixed.absolute, r.fixed.relative, r.sequential.absolute, r.sequential.relative, r.sequential.msprt])
    applyMinimum(e, why);
  return r;
}

function getEstimate(r: ComparisonResult, f: EstimateFamily): Estimate {
  switch (f) {
    case 'fixed.absolute':
      return r.fixed.absolute;
    case 'fixed.relative':
      return r.fixed.relative;
    case 'sequential.absolute':
      return r.sequential.absolute;
    case 'sequential.relative':
      return r.sequential.relative;
    case 'sequential.msprt':
      return r.sequential.msprt;
  }
}

/** CUPED (pooled over every arm of the metric) when all arms carry covariate sums. */
function adjustArms(
  arms: Array<ArmStats | CovariateArmStats>,
  enabled: boolean,
): { arms: ArmStats[]; summary: (i: number) => CupedSummary } {
  if (!enabled || !arms.every(isCovariateArm)) {
    const reason = enabled ? 'no covariate statistics' : 'disabled';
    return { arms, summary: () => ({ applied: false, theta: 0, varianceReduction: 0, reason }) };
  }
  const c = cupedAdjust(arms);
  return {
    arms: c.arms,
    summary: (i) => {
      const out: CupedSummary = { applied: c.defined, theta: c.theta, varianceReduction: c.varianceReduction[i] };
      if (c.reason) out.reason = c.reason;
      return out;
    },
  };
}

function analyzeMetric(metric: MetricInput | RatioMetricInput, s: Settings, cuped: boolean): ComparisonResult[] {
  if (metric.kind === 'ratio') {
    const noCuped: CupedSummary = { applied: false, theta: 0, varianceReduction: 0, reason: 'not supported for ratio metrics' };
    return metric.variants.map((v) => {
      const why = insufficientSample(
        { n: metric.control.n, sum: metric.control.sumNum, sumSq: 0 },
        { n: v.stats.n, sum: v.stats.sumNum, sumSq: 0 },
        'ratio',
        { ...s.minimums, ...metric.minimums },
      );
      const r = gate(compareRatio(metric.control, v.stats, s, v.previous), why);
      return { metric: metric.name, variant: v.name, cuped: { ...noCuped }, fixed: r.fixed, sequential: r.sequential };
    });
  }
  const kind = metric.kind ?? 'mean';
  const adjusted = adjustArms([metric.control, ...metric.variants.map((v) => v.stats)], cuped);
  const control = adjusted.arms[0];
  return metric.variants.map((v, i) => {
    const raw = v.stats;
    const why = insufficientSample(metric.control, raw, kind, { ...s.minimums, ...metric.minimums });
    // CUPED-adjusted conversions are no longer 0/1 counts: they take the mean path (adjusted variance).
    const effectiveKind = kind === 'proportion' && adjusted.summary(i + 1).applied ? 'mean' : kind;
    const r = gate(compare(effectiveKind, control, adjusted.arms[i + 1], s, v.previous), why);
    return { metric: metric.name, variant: v.name, cuped: adjusted.summary(i + 1), fixed: r.fixed, sequential: r.sequential };
  });
}

function settings(options: AnalysisOptions): Settings {
  return {
    alpha: options.alpha ?? DEFAULT_ALPHA,
    plannedSampleSize: options.plannedSampleSize,
    tau2: options.tau2,
    relativeInterval: options.relativeInterval ?? 'log-ratio',
    varianceFloor: options.varianceFloor ?? true,
    minimums: options.minimums ?? {},
  };
}

/** One treatment against control, no multiple-comparison correction. CUPED pools these two arms. */
export function analyzeComparison(
  control: ArmStats | CovariateArmStats,
  treatment: ArmStats | CovariateArmStats,
  options: AnalysisOptions & { kind?: 'mean' | 'proportion' } = {},
): ComparisonResult {
  const metric: MetricInput = { name: '', kind: options.kind, control, variants: [{ name: '', stats: treatment }] };
  return analyzeMetric(metric, settings(options), options.cuped !== false)[0];
}

function isSequential(f: EstimateFamily): boolean {
  return f.startsWith('sequential.');
}

/** This read's e-value of a sequential estimate (0 when it carries none: undefined or gated). */
function currentEValue(e: Estimate): number {
  const log = e.params.logEValue;
  return e.defined && e.insufficient === undefined && typeof log === 'number' ? Math.exp(log) : 0;
}

function correct(
  method: Exclude<CorrectionMethod, 'none'>,
  family: EstimateFamily,
  raw: Estimate[],
  ps: number[],
  alpha: number,
): CorrectionResult {
  if (method === 'bonferroni') return bonferroni(ps, alpha);
  if (method === 'e-bh' && isSequential(family)) return eBenjaminiHochberg(raw.map(currentEValue), alpha);
  return benjaminiHochberg(ps, alpha);
}

/**
 * The full results table. Each estimate family is corrected separately across all metrics ×
 * variants (undefined comparisons count as p = 1, which is conservative). Intervals are rebuilt at
 * the correction's ciAlpha with the sequential tuning (ρ, τ²) held at the nominal alpha, so an
 * interval excludes 0 exactly when the adjusted p-value is ≤ alpha (up to the pooled-vs-unpooled
 * standard error of the two-proportion z-test). `pValue` stays raw; `adjustedPValue` is added.
 */
export function resultsTable(metrics: Array<MetricInput | RatioMetricInput>, options: AnalysisOptions = {}): ResultsTable {
  const s = settings(options);
  const method = options.correction ?? 'e-bh';
  const cells = metrics.flatMap((m) => analyzeMetric(m, s, options.cuped !== false));
  const ciAlpha = {} as Record<EstimateFamily, number>;
  const applied = {} as Record<EstimateFamily, CorrectionResult['method'] | 'none'>;
  for (const family of ESTIMATE_FAMILIES) {
    ciAlpha[family] = s.alpha;
    applied[family] = 'none';
    if (method === 'none' || cells.length === 0) continue;
    const raw = cells.map((c) => getEstimate(c, family));
    // Comparisons still below their minimum sample count as p = 1 (like undefined ones).
    const ps = raw.map((e) => (e.insufficient === undefined ? e.pValue : 1));
    const correction = correct(method, family, raw, ps, s.alpha);
    ciAlpha[family] = correction.ciAlpha;
    applied[family] = correction.method;
    raw.forEach((e, i) => {
      const adjustedPValue = correction.adjustedPValues[i];
      // Every Estimate here was created by this call, so finishing it in place is safe and avoids
      // copying 250 objects per table. Only the interval depends on alpha; p and tuning do not.
      if (e.defined && correction.ciAlpha !== s.alpha) e.ci = intervalAt(e, correction.ciAlpha) ?? e.ci;
      e.params.ciAlpha = correction.ciAlpha;
      e.params.correction = correction.method;
      e.adjustedPValue = adjustedPValue;
      e.significant = e.defined && e.insufficient === undefined && adjustedPValue <= s.alpha;
    });
  }
  return { comparisons: cells, correction: { method, alpha: s.alpha, m: cells.length, ciAlpha, applied } };
}
