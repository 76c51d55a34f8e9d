import type { InteractionDto } from './interactions';
import { z } from 'zod';
import type { MetricDirection, MetricType } from './config';

/** Query of `GET /v1/experiments/:key/results`. */
export const resultsQuerySchema = z
  .object({
    /** Break down by an exposure attribute (e.g. `country`) or `day_of_week`. */
    segment: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/).optional(),
    /**
     * Correction across metrics × variants; default `e_bh` (the results are sequential).
     * `e_bh`: e-BH on the sequential e-values (FDR under
     * arbitrary dependence at any stopping time) and BH on fixed-horizon p-values; `bh`:
     * Benjamini–Hochberg everywhere (FDR under positive dependence, at a fixed time); `bonferroni`:
     * family-wise error. See docs/statistics-methods.md.
     */
    correction: z.enum(['e_bh', 'bh', 'bonferroni', 'none']).default('e_bh'),
    alpha: z.coerce.number().gt(0).lt(0.5).default(0.05),
    /**
     * Also report every metric post-stratified on this declared segment dimension (e.g. `country`):
     * `postStratified` in the results (Miratrix, Sekhon & Yu 2013), from the dimension's stored slices.
     */
    stratify: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/).optional(),
  })
  .strict();
export type ResultsQuery = z.output<typeof resultsQuerySchema>;
/** The results query as a client writes it (defaults filled by the server). */
export type ResultsQueryParams = Partial<ResultsQuery>;

export const exportFormatSchema = z.object({ format: z.enum(['csv', 'json', 'parquet']).default('csv') }).strict();
export const unitExportFormatSchema = z.object({ format: z.enum(['csv', 'ndjson', 'parquet']).default('csv') }).strict();

/** An interval or null when it is not defined (see `reason`). */
export type Interval = [number, number] | null;

export interface InferenceDto {
  /** e.g. `welch-t`, `two-proportion-z`, `delta-method`, `asymptotic-cs`, `msprt`. */
  method: string;
  params: Record<string, number | string>;
  estimate: number;
  ci: Interval;
  pValue: number;
  /**
   * Sequential results: the multiple-comparison adjusted p of the running p-values (the correction
   * in `corrections`); `significant` is adjusted p ≤ alpha.
   */
  adjustedPValue?: number;
  significant: boolean;
  /** Present when the result is not defined (too few units, zero variance, …). */
  reason?: string;
  /**
   * Present when the estimate is defined but may not be called significant yet (below the metric's
   * minimum units per arm or conversions); says what it waits for.
   */
  insufficient?: string;
  /** Sequential results only: which monotone sequence the running p / intersected interval belong to. */
  sequence?: SequenceInfoDto;
}

/**
 * The persisted monotone state behind a sequential number: p is the running minimum and the
 * interval the running intersection since `startedAt`, within one analysis configuration `key`.
 */
export interface SequenceInfoDto {
  /** Configuration key (alpha, correction, CUPED, N*, strata, metric definition hash). */
  key: string;
  /** 1, 2, … : a new sequence starts whenever the configuration changes. */
  sequence: number;
  startedAt: string | null;
  /** Why this sequence started (e.g. "alpha, CUPED changed"); null for the first. */
  restartReason: string | null;
  reads: number;
  /** The intervals stopped overlapping; the interval shown is a point (see docs/statistics-methods.md). */
  emptyIntersection: boolean;
}

/** Method and parameters behind any number not carried by an InferenceDto. */
export interface MethodDto {
  method: string;
  params: Record<string, number | string>;
}

export interface VariantArmDto {
  variant: string;
  units: number;
  /** Per-unit mean of the metric (conversion rate for conversion metrics). */
  mean: number;
  sum: number;
  /** Per-unit standard deviation. */
  sd: number;
}

export interface VariantComparisonDto extends VariantArmDto {
  isControl: boolean;
  /** Treatment − control, per unit. Null for the control row. */
  absolute: { fixed: InferenceDto; sequential: InferenceDto } | null;
  /** Treatment / control − 1. Null for the control row. */
  relative: { fixed: InferenceDto; sequential: InferenceDto } | null;
  /** Always-valid p-value of the mixture SPRT. */
  msprt: InferenceDto | null;
  /** Same comparison with the CUPED-adjusted means; null when the metric has no covariate. */
  cuped: { theta: number; varianceReduction: number; absolute: InferenceDto; relative: InferenceDto } | null;
  /** Multiple-comparison adjusted p-value (BH by default) of the sequential relative test. */
  adjustedPValue: number | null;
}

export interface MetricResultDto {
  metric: string;
  name: string;
  type: MetricType;
  direction: MetricDirection;
  role: 'primary' | 'secondary' | 'guardrail';
  variants: VariantComparisonDto[];
  /**
   * Winsorized metrics: the caps the statistics use. They are recomputed on a schedule (hourly by
   * default, or on request) and frozen in between; `computedAt` is null before the first computation.
   */
  winsorization?: { percentile: number; cap: number | null; covariateCap: number | null; units: number; computedAt: string | null };
}

export interface SrmDto {
  counts: Record<string, number>;
  expectedWeights: Record<string, number>;
  /** Pearson chi-square statistic of today's counts (fixed horizon; informational). */
  chiSquare: number;
  /**
   * In the results: the anytime-valid p = min(1, 1/max E) of the Dirichlet-multinomial test
   * (`method`), valid however often it is checked; `flagged` is pValue ≤ params.level.
   */
  pValue: number;
  flagged: boolean;
  /** `srm-chi-square` (fixed horizon) or `srm-dirichlet-multinomial` (anytime-valid, Lindon & Malek 2022). */
  method?: string;
  /** e.g. { level: 0.001, concentration: 1000, maxLogE, checks }. */
  params?: Record<string, number | string>;
  /** Anytime-valid p = min(1, 1/max E) when the sequential test ran. */
  sequentialPValue?: number;
  /**
   * The fixed-horizon chi-square p of today's counts, for reference only: re-tested at every read
   * it flags healthy experiments far more often than its level, so it decides nothing.
   */
  chiSquarePValue?: number;
}

/** Novelty: trend of the effect over exposure-day cohorts (noveltyTrend). */
export interface NoveltyDto extends MethodDto {
  metric: string;
  variant: string;
  cohorts: Array<{ day: number; estimate: number; ci: Interval }>;
  slope: number;
  pValue: number;
  flagged: boolean;
  pattern: 'fading' | 'growing' | 'none';
  /** Present when the trend is not defined (e.g. fewer than 3 days with data). */
  reason?: string;
}

/** Heterogeneity of the effect across one declared segment dimension (Cochran's Q, Holm across dimensions). */
export interface HeterogeneityDto extends MethodDto {
  metric: string;
  variant: string;
  dimension: string;
  q: number;
  df: number;
  pValue: number;
  adjustedPValue: number;
  iSquared: number;
  flagged: boolean;
  /** Segments whose effect differs from the others' (Bonferroni within the dimension). */
  highlighted: string[];
  /** Present when the test is not defined (e.g. fewer than 2 segments with data). */
  reason?: string;
}

/**
 * One metric × treatment post-stratified on a declared dimension (`post-stratification`, Miratrix,
 * Sekhon & Yu 2013): Σ_h W_h(ȳ_t,h − ȳ_c,h), W_h the stratum's share of the two arms' units,
 * after CUPED within the strata when the metric has a covariate. `params` name the strata, weights
 * and CUPED; `sequential` numbers are folded into their own monotone sequence (key `strata=<dim>`)
 * and corrected within their family; the decision does not use them.
 */
export interface PostStratifiedDto extends MethodDto {
  metric: string;
  variant: string;
  dimension: string;
  /** The strata after small ones (< 30 units in an arm) are merged into "(other)"; "(not set)" = no value. */
  strata: Array<{ value: string; units: number }>;
  cuped: { applied: boolean; theta: number; reason?: string };
  absolute: { fixed: InferenceDto; sequential: InferenceDto };
  relative: { fixed: InferenceDto; sequential: InferenceDto };
  /** Present when the estimator is not defined (ratio metric, a stratum without units in an arm, …). */
  reason?: string;
}

/** Whether "Ready to ship" may show yet, and what it waits for. */
export interface ReadinessDto {
  ready: boolean;
  minDurationDays: number;
  daysRun: number;
  reason: string;
}

export interface GuardrailStatusDto {
  metric: string;
  variant: string;
  threshold: number;
  /** Sequential CI of the relative change, oriented so that positive is harm. */
  harmCi: Interval;
  status: 'ok' | 'harm' | 'insufficient_data';
  message: string;
}

export type DecisionHint = 'ship' | 'keep_running' | 'stop_for_harm' | 'inconclusive';

export interface SegmentResultDto {
  segment: string;
  value: string;
  metrics: MetricResultDto[];
}

export interface ExperimentResultsDto {
  experiment: string;
  status: string;
  computedAt: string;
  /** Events received up to this time are included (the rollup watermark). */
  dataThrough: string | null;
  alpha: number;
  correction: 'e_bh' | 'bh' | 'bonferroni' | 'none';
  /** Per estimate family, the correction actually applied (e_bh → e-BH for sequential, BH for fixed). */
  corrections?: Record<string, string>;
  /** Variance floors, minimum sample sizes, winsorization and relative-interval scale in force. */
  analysisSettings?: MethodDto;
  novelty?: NoveltyDto[];
  heterogeneity?: HeterogeneityDto[];
  /** Post-stratified results per metric × treatment, with `?stratify=<declared dimension>`. */
  postStratified?: PostStratifiedDto[];
  readiness?: ReadinessDto;
  /** Which sequential methods and parameters produced the sequential numbers. */
  sequential: { method: string; params: Record<string, number | string> };
  totalUnits: number;
  metrics: MetricResultDto[];
  srm: SrmDto | null;
  guardrails: GuardrailStatusDto[];
  decision: { hint: DecisionHint; reason: string };
  segments?: SegmentResultDto[];
  /** Significant interactions with experiments in other layers (either experiment's metric), from the last refresh. */
  interactions?: InteractionDto[];
}

export interface TimeseriesPointDto {
  /** UTC day, YYYY-MM-DD; values are cumulative up to the end of that day. */
  date: string;
  unitsByVariant: Record<string, number>;
  /**
   * Per metric, per treatment variant: the relative lift's sequential interval, as the running
   * intersection of the day-end intervals so far (the last day: the results table's interval).
   */
  lift: Record<string, Record<string, { estimate: number; ci: Interval }>>;
}

export interface ExperimentTimeseriesDto {
  experiment: string;
  control: string;
  metrics: string[];
  /** How the intervals were built (monotone series; the last day is the results table's persisted sequence). */
  method?: MethodDto;
  points: TimeseriesPointDto[];
}

/** Query of `GET /v1/experiments/:key/results/timeseries`. */
export const timeseriesQuerySchema = z.object({ alpha: z.coerce.number().gt(0).lt(0.5).default(0.05) }).strict();

/**
 * One experiment's row in the experiments list, read from the analysis engine's stored state
 * (no recomputation): `GET /v1/experiments/summaries?keys=a,b,c` answers one per key.
 */
export interface ExperimentSummaryDto {
  experiment: string;
  status: string;
  /** Events received up to this time are included (the engine's watermark); null before the first tick. */
  dataThrough: string | null;
  totalUnits: number;
  /** The best treatment on the primary metric (sequential relative test), or null without a primary metric or data. */
  primary: {
    metric: string;
    variant: string;
    /** Relative lift (treatment / control − 1); null when undefined (zero control mean). */
    relativeLift: number | null;
    ci: Interval;
    pValue: number | null;
    significant: boolean;
  } | null;
  srm: { flagged: boolean; pValue: number } | null;
  guardrails: { ok: number; harm: number; insufficientData: number };
  decision: DecisionHint | null;
}

/** Query of `GET /v1/experiments/summaries`: up to 200 comma-separated experiment keys. */
export const experimentSummariesQuerySchema = z
  .object({
    keys: z
      .string()
      .max(200 * 101)
      .transform((s) => s.split(',').filter((k) => k.length > 0))
      .pipe(z.array(z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/)).max(200)),
  })
  .strict();
