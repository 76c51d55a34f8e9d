import type {
  DecisionHint,
  ExperimentResultsDto,
  GuardrailStatusDto,
  InferenceDto,
  MetricResultDto,
  ResultsQuery,
  SrmDto,
  VariantComparisonDto,
} from '@strata/contracts';
import {
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
} from '@strata/stats';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import type { SequentialFold, SequentialScale } from './sequential-fold';

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

const CORRECTIONS: Record<ResultsQuery['correction'], CorrectionMethod> = { e_bh: 'e-bh', bh: 'benjamini-hochberg', bonferroni: 'bonferroni', none: 'none' };

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

/**
 * Builds the metric tables (one per metric, variants in configuration order, control first).
 * With a `fold`, every sequential number is folded into its persisted monotone sequence (running
 * minimum p, running intersection CI) and carries `sequence`; without one it is today's alone.
 */
export function buildMetricResults(def: AnalysisDefinition, aggregates: MetricAggregates, query: ResultsQuery, fold?: SequentialFold): MetricResultDto[] {
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
  // Delta-method relative intervals and textbook variances until the timeseries and guardrails go
  // through the same path (issue 15 wiring): the log-ratio / floored numbers would disagree with them.
  const options = {
    alpha: query.alpha,
    plannedSampleSize: plannedN(def),
    correction: CORRECTIONS[query.correction],
    relativeInterval: 'delta' as const,
    varianceFloor: false,
  };
  const main = resultsTable(inputs, { ...options, cuped: false });
  const cuped = resultsTable(inputs, { ...options, cuped: true });
  const find = (table: ComparisonResult[], metric: string, variant: string) => table.find((c) => c.metric === metric && c.variant === variant);
  return def.metrics.map((metric) => {
    const agg = aggregates.get(metric.key);
    const variants: VariantComparisonDto[] = def.variants.map((v, i) => {
      const raw = agg?.get(v.key) ?? EMPTY_ARM;
      const arm = toArmStats(metric, raw);
      const mean = arm.n > 0 ? arm.sum / arm.n : 0;
      const variance = arm.n > 1 ? Math.max(0, (arm.sumSq - arm.n * mean * mean) / (arm.n - 1)) : 0;
      const base = { variant: v.key, units: raw.n, mean, sum: raw.sum, sd: Math.sqrt(variance) };
      if (i === 0) return { ...base, isControl: true, absolute: null, relative: null, msprt: null, cuped: null, adjustedPValue: null };
      const c = find(main.comparisons, metric.key, v.key);
      const cc = find(cuped.comparisons, metric.key, v.key);
      if (!c) throw new Error(`missing comparison ${metric.key}/${v.key}`);
      const seq = (e: Estimate, scale: SequentialScale, withCuped: boolean): InferenceDto => {
        if (!fold) return inference(e);
        const r = fold.fold(metric, v.key, scale, withCuped, e, query);
        return { ...inference(r.estimate), sequence: r.sequence };
      };
      return {
        ...base,
        isControl: false,
        absolute: { fixed: inference(c.fixed.absolute), sequential: seq(c.sequential.absolute, 'absolute', false) },
        relative: { fixed: inference(c.fixed.relative), sequential: seq(c.sequential.relative, 'relative', false) },
        msprt: seq(c.sequential.msprt, 'msprt', false),
        cuped:
          cc && cc.cuped.applied
            ? { theta: cc.cuped.theta, varianceReduction: cc.cuped.varianceReduction, absolute: seq(cc.sequential.absolute, 'absolute', true), relative: seq(cc.sequential.relative, 'relative', true) }
            : null,
        adjustedPValue: c.sequential.relative.adjustedPValue ?? c.sequential.relative.pValue,
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
    const threshold = metric.harmThreshold ?? 0;
    def.variants.slice(1).forEach((v, i) => {
      const opts = { alpha, plannedSampleSize: plannedN(def) };
      // Absolute and relative: the absolute interval decides when the relative lift is undefined (a zero baseline).
      const pair = {
        absolute: sequentialConfidenceSequence(arms[0], arms[i + 1], { ...opts, relative: false }),
        relative: sequentialConfidenceSequence(arms[0], arms[i + 1], { ...opts, relative: true }),
      };
      const verdict = guardrailVerdict(pair, metric.direction, threshold);
      if (verdict.status === 'insufficient_data' || !verdict.harmCi) {
        out.push({ metric: metric.key, variant: v.key, threshold, harmCi: null, status: 'insufficient_data', message: verdict.message || 'not enough data' });
        return;
      }
      const { harmCi, harmEstimate } = verdict;
      const harm = verdict.status === 'harm';
      const fmt = verdict.basis === 'relative' ? (x: number) => `${(x * 100).toFixed(2)}%` : (x: number) => `${x.toPrecision(3)} per unit`;
      const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
      const scale = verdict.basis === 'relative' ? '' : ' (absolute: no baseline for a relative change, threshold not applied)';
      out.push({
        metric: metric.key,
        variant: v.key,
        threshold,
        harmCi,
        status: harm ? 'harm' : 'ok',
        message: harm
          ? `${metric.key} is worse in ${v.key} by ${fmt(harmEstimate)}${scale} (sequential ${Math.round((1 - alpha) * 100)}% CI of harm ${fmt(harmCi[0])} to ${fmt(harmCi[1])}, threshold ${pct(threshold)})`
          : `no harm shown for ${metric.key} in ${v.key}${scale} (harm estimate ${fmt(harmEstimate)}, CI ${fmt(harmCi[0])} to ${fmt(harmCi[1])})`,
      });
    });
  }
  return out;
}

/** A hint, never an automatic action (except the guardrail job's auto-stop). */
export function decide(def: AnalysisDefinition, metrics: MetricResultDto[], srm: SrmDto | null, guardrails: GuardrailStatusDto[], alpha: number): { hint: DecisionHint; reason: string } {
  const harmed = guardrails.filter((g) => g.status === 'harm');
  if (harmed.length) return { hint: 'stop_for_harm', reason: `Guardrail harm: ${harmed.map((g) => g.message).join('; ')}.` };
  if (srm?.flagged) {
    return { hint: 'inconclusive', reason: `Sample ratio mismatch (chi-square p = ${srm.pValue.toExponential(2)} < 0.001): the split does not match the weights, so the results are not trustworthy; check assignment and exposure logging.` };
  }
  const primary = metrics.find((m) => m.role === 'primary');
  if (!primary) return { hint: 'inconclusive', reason: 'The experiment has no primary metric.' };
  const good = primary.direction === 'increase' ? 1 : -1;
  let best: { variant: string; lift: number } | null = null;
  for (const v of primary.variants) {
    const seq = v.relative?.sequential;
    if (!seq || v.adjustedPValue === null || v.adjustedPValue > alpha) continue;
    if (good * seq.estimate < 0) {
      return { hint: 'stop_for_harm', reason: `The primary metric ${primary.metric} is significantly worse in ${v.variant} (relative ${(seq.estimate * 100).toFixed(2)}%, adjusted always-valid p = ${v.adjustedPValue.toPrecision(3)}).` };
    }
    if (!best || good * seq.estimate > good * best.lift) best = { variant: v.variant, lift: seq.estimate };
  }
  if (best) return { hint: 'ship', reason: `${best.variant} improves ${primary.metric} by ${(best.lift * 100).toFixed(2)}% (sequential test, adjusted p ≤ ${alpha}); no guardrail harm.` };
  const planned = plannedN(def);
  const smallest = Math.min(...primary.variants.map((v) => v.units));
  if (smallest >= planned) return { hint: 'inconclusive', reason: `No significant difference in ${primary.metric} at the planned sample size (${planned} units per variant).` };
  return { hint: 'keep_running', reason: `No significant difference in ${primary.metric} yet; ${smallest} of ${planned} planned units in the smallest variant.` };
}

export function buildResults(
  def: AnalysisDefinition,
  aggregates: MetricAggregates,
  units: Map<string, number>,
  query: ResultsQuery,
  dataThrough: Date | null,
  now: Date = new Date(),
  fold?: SequentialFold,
): ExperimentResultsDto {
  const metrics = buildMetricResults(def, aggregates, query, fold);
  const srm = buildSrm(def, units);
  const guardrails = buildGuardrails(def, aggregates, query.alpha);
  return {
    experiment: def.key,
    status: def.status,
    computedAt: now.toISOString(),
    dataThrough: dataThrough?.toISOString() ?? null,
    alpha: query.alpha,
    correction: query.correction,
    sequential: {
      method: 'asymptotic-confidence-sequence + msprt',
      params: { plannedSampleSize: plannedN(def), plannedSampleSizeSource: def.plannedSampleSize ? 'experiment' : 'default' },
    },
    totalUnits: [...units.values()].reduce((a, b) => a + b, 0),
    metrics,
    srm,
    guardrails,
    decision: decide(def, metrics, srm, guardrails, query.alpha),
  };
}
