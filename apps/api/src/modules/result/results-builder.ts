import type {
  GuardrailStatusDto,
  InferenceDto,
  MetricResultDto,
  ResultsQuery,
  SequenceInfoDto,
  SrmDto,
  VariantComparisonDto,
} from '@strata/contracts';
import {
  benjaminiHochberg,
  bonferroni,
  eBenjaminiHochberg,
  DEFAULT_PLANNED_SAMPLE_SIZE,
  guardrailVerdict,
  ratioArmMoments,
  resultsTable,
  sequentialConfidenceSequence,
  srmTest,
  type ArmStats,
  type ComparisonResult,
  type CorrectionMethod,
  type CovariateArmStats,
  type Estimate,
  type MetricInput,
  type SequentialPair,
} from '@strata/stats';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import { SequentialFold, type SequentialScale } from './sequential-fold';

/**
 * Pure core of the results endpoint: per-variant sufficient statistics in, ExperimentResultsDto
 * out. No I/O, so the cross-check test can feed it numbers computed in memory.
 */

/** What SQL returns per variant for one metric (and segment). */
export interface ArmAggregate {
  n: number;
  sum: number;
  sumSq: number;
  covSum: number;
  covSumSq: number;
  crossSum: number;
  /** Ratio metrics: Σ denominator, Σ denominator², Σ numerator·denominator (sum/sumSq are the numerator's). */
  sumDen: number;
  sumDenSq: number;
  sumNumDen: number;
}

export const EMPTY_ARM: ArmAggregate = { n: 0, sum: 0, sumSq: 0, covSum: 0, covSumSq: 0, crossSum: 0, sumDen: 0, sumDenSq: 0, sumNumDen: 0 };

export type MetricAggregates = Map<string, Map<string, ArmAggregate>>;

export const CORRECTIONS: Record<ResultsQuery['correction'], CorrectionMethod> = { e_bh: 'e-bh', bh: 'benjamini-hochberg', bonferroni: 'bonferroni', none: 'none' };

/**
 * Interval settings of every number the results API shows (table, time series, the results'
 * guardrails): the library defaults — log-ratio relative intervals (never below −100%) and
 * variance floors (add-one / Agresti–Caffo for proportions, a floored per-arm variance for means),
 * so a small or zero-event arm is not treated as zero variance. With the old delta-method /
 * textbook variances the seeded lognormal σ = 2, 90/10 simulation had a 20% false positive rate
 * (results-simulation-*.spec.ts); with these it stays under 5%. The guardrail tick still calls
 * sequentialConfidenceSequence directly (delta method) — see docs/analysis.md.
 */
export const STATS_OPTIONS = { relativeInterval: 'log-ratio' as const, varianceFloor: true };

/**
 * The arm the statistics see. Ratio metrics are linearised: an arm with mean R = Σnum/Σden and
 * per-unit variance n·Var_delta(R), so every test (fixed, sequential, mSPRT) applies unchanged
 * and the variance is the delta-method variance over units.
 */
export function toArmStats(metric: AnalysisMetric, a: ArmAggregate): ArmStats | CovariateArmStats {
  if (metric.type === 'ratio') {
    const m = ratioArmMoments({ n: a.n, sumNum: a.sum, sumNumSq: a.sumSq, sumDen: a.sumDen, sumDenSq: a.sumDenSq, sumNumDen: a.sumNumDen });
    // Undefined ratio (no denominator): an empty arm makes every test say "not defined".
    if (!m.ok) return { n: 0, sum: 0, sumSq: 0 };
    const unitVariance = m.variance * a.n;
    return { n: a.n, sum: a.n * m.ratio, sumSq: (a.n - 1) * unitVariance + a.n * m.ratio * m.ratio };
  }
  if (metric.cupedLookbackDays > 0) {
    return { n: a.n, sum: a.sum, sumSq: a.sumSq, covSum: a.covSum, covSumSq: a.covSumSq, crossSum: a.crossSum };
  }
  return { n: a.n, sum: a.sum, sumSq: a.sumSq };
}

function inference(e: Estimate): InferenceDto {
  const out: InferenceDto = { method: e.method, params: e.params, estimate: e.estimate, ci: e.ci, pValue: e.pValue, significant: e.significant };
  if (e.reason) out.reason = e.reason;
  return out;
}

export function plannedN(def: AnalysisDefinition): number {
  return def.plannedSampleSize && def.plannedSampleSize > 0 ? def.plannedSampleSize : DEFAULT_PLANNED_SAMPLE_SIZE;
}

function armsOf(def: AnalysisDefinition, metric: AnalysisMetric, aggregates: Map<string, ArmAggregate> | undefined): (ArmStats | CovariateArmStats)[] {
  return def.variants.map((v) => toArmStats(metric, aggregates?.get(v.key) ?? EMPTY_ARM));
}

/** One sequential family of the table (each gets its own correction, as in resultsTable). */
const FAMILIES = ['absolute', 'relative', 'msprt', 'cupedAbsolute', 'cupedRelative'] as const;
type Family = (typeof FAMILIES)[number];

/**
 * The correction on the FOLDED (running-minimum) p-values, so the adjusted p and `significant` are
 * functions of the persisted monotone state and cannot flip back: every adjusted p of BH, e-BH
 * and Bonferroni is a coordinatewise non-decreasing function of the p-vector, and each running p
 * only goes down. e-BH on e = 1/p (the running maximum of each comparison's mixture likelihood
 * ratio, p = min(1, 1/e) for the confidence sequence and the mSPRT). See docs/analysis.md for the
 * guarantee this gives (FWER over all reads for Bonferroni; e-BH/BH: FDR at the read of each decision).
 */
export function correctFolded(method: CorrectionMethod, estimates: Estimate[], alpha: number): void {
  const ps = estimates.map((e) => (e.defined && e.insufficient === undefined ? e.pValue : 1));
  const adjusted =
    method === 'none'
      ? ps
      : method === 'bonferroni'
        ? bonferroni(ps, alpha).adjustedPValues
        : method === 'e-bh'
          ? eBenjaminiHochberg(ps.map((p) => (p > 0 ? 1 / p : Number.POSITIVE_INFINITY)), alpha).adjustedPValues
          : benjaminiHochberg(ps, alpha).adjustedPValues;
  estimates.forEach((e, i) => {
    e.adjustedPValue = adjusted[i];
    e.params.correction = method;
    e.params.correctedOn = 'running-min-p';
    e.significant = e.defined && e.insufficient === undefined && adjusted[i] <= alpha;
  });
}

/** Row key of a segment's sequences: `metric|segment=value` (the whole population: the metric key). */
export function scopedMetricKey(metric: string, scope?: string): string {
  return scope === undefined ? metric : `${metric}|${scope}`;
}

/**
 * Builds the metric tables (one per metric, variants in configuration order, control first).
 * Every sequential number is folded into its monotone sequence (running minimum p, running
 * intersection CI): with a `fold` over the stored states it continues the persisted sequence and
 * carries `sequence`; without one it is today's read alone. The correction is then applied to the
 * folded p-values (correctFolded), so significance is a function of the persisted state.
 * `scope` (e.g. `country=DE`) keeps a segment's sequences apart from the whole population's.
 */
export function buildMetricResults(def: AnalysisDefinition, aggregates: MetricAggregates, query: ResultsQuery, fold?: SequentialFold, scope?: string): MetricResultDto[] {
  if (def.variants.length < 2) return [];
  const inputs: MetricInput[] = def.metrics.map((metric) => {
    const arms = armsOf(def, metric, aggregates.get(metric.key));
    return {
      name: metric.key,
      kind: metric.type === 'conversion' ? 'proportion' : 'mean',
      control: arms[0],
      variants: def.variants.slice(1).map((v, i) => ({ name: v.key, stats: arms[i + 1] })),
    };
  });
  const options = { ...STATS_OPTIONS, alpha: query.alpha, plannedSampleSize: plannedN(def), correction: CORRECTIONS[query.correction] };
  const main = resultsTable(inputs, { ...options, cuped: false });
  // The CUPED table only when some metric has a covariate (otherwise every CUPED cell is null).
  const cuped = def.metrics.some((m) => m.cupedLookbackDays > 0) ? resultsTable(inputs, { ...options, cuped: true }) : { comparisons: [] };
  const find = (table: ComparisonResult[], metric: string, variant: string) => table.find((c) => c.metric === metric && c.variant === variant);
  const folder = fold ?? new SequentialFold([], new Map(), plannedN(def), '');
  const families = new Map<Family, Estimate[]>(FAMILIES.map((f) => [f, []]));
  const sequenceOf = new Map<Estimate, SequenceInfoDto>();
  const seq = (metric: AnalysisMetric, variant: string, family: Family, e: Estimate): Estimate => {
    const scale: SequentialScale = family === 'msprt' ? 'msprt' : family === 'absolute' || family === 'cupedAbsolute' ? 'absolute' : 'relative';
    const r = folder.fold(metric, variant, scale, family.startsWith('cuped'), e, query, scopedMetricKey(metric.key, scope));
    families.get(family)?.push(r.estimate);
    if (fold) sequenceOf.set(r.estimate, r.sequence);
    return r.estimate;
  };
  const folded = def.metrics.map((metric) =>
    def.variants.slice(1).map((v) => {
      const c = find(main.comparisons, metric.key, v.key);
      const cc = find(cuped.comparisons, metric.key, v.key);
      if (!c) throw new Error(`missing comparison ${metric.key}/${v.key}`);
      return {
        c,
        absolute: seq(metric, v.key, 'absolute', c.sequential.absolute),
        relative: seq(metric, v.key, 'relative', c.sequential.relative),
        msprt: seq(metric, v.key, 'msprt', c.sequential.msprt),
        cuped: cc && cc.cuped.applied ? { summary: cc.cuped, absolute: seq(metric, v.key, 'cupedAbsolute', cc.sequential.absolute), relative: seq(metric, v.key, 'cupedRelative', cc.sequential.relative) } : null,
      };
    }),
  );
  for (const list of families.values()) correctFolded(CORRECTIONS[query.correction], list, query.alpha);
  const dto = (e: Estimate): InferenceDto => {
    const s = sequenceOf.get(e);
    return { ...inference(e), ...(e.adjustedPValue === undefined ? {} : { adjustedPValue: e.adjustedPValue }), ...(s ? { sequence: s } : {}) };
  };
  return def.metrics.map((metric, mi) => {
    const agg = aggregates.get(metric.key);
    const variants: VariantComparisonDto[] = def.variants.map((v, i) => {
      const raw = agg?.get(v.key) ?? EMPTY_ARM;
      const arm = toArmStats(metric, raw);
      const mean = arm.n > 0 ? arm.sum / arm.n : 0;
      const variance = arm.n > 1 ? Math.max(0, (arm.sumSq - arm.n * mean * mean) / (arm.n - 1)) : 0;
      const base = { variant: v.key, units: raw.n, mean, sum: raw.sum, sd: Math.sqrt(variance) };
      if (i === 0) return { ...base, isControl: true, absolute: null, relative: null, msprt: null, cuped: null, adjustedPValue: null };
      const f = folded[mi][i - 1];
      return {
        ...base,
        isControl: false,
        absolute: { fixed: inference(f.c.fixed.absolute), sequential: dto(f.absolute) },
        relative: { fixed: inference(f.c.fixed.relative), sequential: dto(f.relative) },
        msprt: dto(f.msprt),
        cuped: f.cuped ? { theta: f.cuped.summary.theta, varianceReduction: f.cuped.summary.varianceReduction, absolute: dto(f.cuped.absolute), relative: dto(f.cuped.relative) } : null,
        adjustedPValue: f.relative.adjustedPValue ?? f.relative.pValue,
      };
    });
    return { metric: metric.key, name: metric.name, type: metric.type, direction: metric.direction, role: metric.role, variants };
  });
}

export function buildSrm(def: AnalysisDefinition, units: Map<string, number>): SrmDto | null {
  if (def.variants.length < 2) return null;
  const counts = def.variants.map((v) => units.get(v.key) ?? 0);
  const r = srmTest(counts, def.variants.map((v) => v.weight));
  if (!r.defined) return null;
  return {
    counts: Object.fromEntries(def.variants.map((v, i) => [v.key, counts[i]])),
    expectedWeights: Object.fromEntries(def.variants.map((v) => [v.key, v.weight])),
    chiSquare: r.chiSquare,
    pValue: r.pValue,
    flagged: r.flagged,
  };
}

/**
 * Guardrail rule. For each guardrail metric and treatment, take the sequential (always-valid)
 * CI of the relative change at `alpha`, oriented so that positive means harm (negated for
 * metrics whose good direction is `increase`). Harm when the whole interval lies above 0 — the
 * data exclude "no harm" at every peek — AND the point estimate of harm exceeds the metric's
 * harm_threshold (default 0).
 */
export function buildGuardrails(def: AnalysisDefinition, aggregates: MetricAggregates, alpha: number): GuardrailStatusDto[] {
  const out: GuardrailStatusDto[] = [];
  for (const metric of def.metrics.filter((m) => m.isGuardrail)) {
    const arms = armsOf(def, metric, aggregates.get(metric.key));
    def.variants.slice(1).forEach((v, i) => {
      const opts = { alpha, plannedSampleSize: plannedN(def) };
      // Absolute and relative: the absolute interval decides when the relative lift is undefined (a zero baseline).
      const pair = {
        absolute: sequentialConfidenceSequence(arms[0], arms[i + 1], { ...opts, relative: false }),
        relative: sequentialConfidenceSequence(arms[0], arms[i + 1], { ...opts, relative: true }),
      };
      out.push(guardrailStatus(metric, v.key, pair, alpha));
    });
  }
  return out;
}

/** The Estimate an InferenceDto was made from (enough of it for the verdict functions). */
export function estimateOf(d: InferenceDto): Estimate {
  return {
    method: d.method,
    params: d.params,
    defined: d.reason === undefined,
    estimate: d.estimate,
    standardError: Number.NaN,
    ci: d.ci,
    pValue: d.pValue,
    significant: d.significant,
    ...(d.adjustedPValue === undefined ? {} : { adjustedPValue: d.adjustedPValue }),
    ...(d.reason === undefined ? {} : { reason: d.reason }),
    ...(d.insufficient === undefined ? {} : { insufficient: d.insufficient }),
  };
}

/**
 * The results' guardrails from the folded (monotone) sequential numbers of the table: the
 * harm-oriented interval is the running intersection, so once it lies wholly above 0 it stays there.
 */
export function guardrailsFromMetrics(def: AnalysisDefinition, metrics: MetricResultDto[], alpha: number): GuardrailStatusDto[] {
  const out: GuardrailStatusDto[] = [];
  for (const metric of def.metrics.filter((m) => m.isGuardrail)) {
    const table = metrics.find((m) => m.metric === metric.key);
    for (const v of table?.variants ?? []) {
      if (v.isControl || !v.absolute || !v.relative) continue;
      out.push(guardrailStatus(metric, v.variant, { absolute: estimateOf(v.absolute.sequential), relative: estimateOf(v.relative.sequential) }, alpha));
    }
  }
  return out;
}

/**
 * Guardrail rule for one guardrail metric and treatment: the sequential (always-valid) CI of the
 * relative change at `alpha`, oriented so that positive means harm (negated for metrics whose
 * good direction is `increase`). Harm when the whole interval lies above 0 — the data exclude
 * "no harm" at every peek — AND the point estimate of harm exceeds the metric's harm_threshold.
 */
function guardrailStatus(metric: AnalysisMetric, variant: string, pair: SequentialPair, alpha: number): GuardrailStatusDto {
  const threshold = metric.harmThreshold ?? 0;
  const verdict = guardrailVerdict(pair, metric.direction, threshold);
  if (verdict.status === 'insufficient_data' || !verdict.harmCi) {
    return { metric: metric.key, variant, threshold, harmCi: null, status: 'insufficient_data', message: verdict.message || 'not enough data' };
  }
  const { harmCi, harmEstimate } = verdict;
  const harm = verdict.status === 'harm';
  const fmt = verdict.basis === 'relative' ? (x: number) => `${(x * 100).toFixed(2)}%` : (x: number) => `${x.toPrecision(3)} per unit`;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const scale = verdict.basis === 'relative' ? '' : ' (absolute: no baseline for a relative change, threshold not applied)';
  return {
    metric: metric.key,
    variant,
    threshold,
    harmCi,
    status: harm ? 'harm' : 'ok',
    message: harm
      ? `${metric.key} is worse in ${variant} by ${fmt(harmEstimate)}${scale} (sequential ${Math.round((1 - alpha) * 100)}% CI of harm ${fmt(harmCi[0])} to ${fmt(harmCi[1])}, threshold ${pct(threshold)})`
      : `no harm shown for ${metric.key} in ${variant}${scale} (harm estimate ${fmt(harmEstimate)}, CI ${fmt(harmCi[0])} to ${fmt(harmCi[1])})`,
  };
}
