import type { InferenceDto, PostStratifiedDto, ResultsQuery, SequenceInfoDto } from '@strata/contracts';
import {
  applyMinimum,
  confidenceSequenceFromMoments,
  insufficientSample,
  mergeSmallStrata,
  postStratify,
  zFromMoments,
  type ArmStats,
  type Estimate,
  type Moments,
  type Stratum,
} from '@strata/stats';
import type { AnalysisDefinition } from './analysis-definition';
import { CORRECTIONS, correctFolded, EMPTY_ARM, plannedN, toArmStats, type ArmAggregate, type MetricAggregates } from './results-builder';
import { SequentialFold } from './sequential-fold';

/**
 * Pure core of `?stratify=<dimension>`: every metric × treatment post-stratified on a declared
 * dimension (Miratrix, Sekhon & Yu 2013), from the dimension's stored slices and the
 * whole-experiment statistics the table reads — no scan. A stratum is a unit's value at its first
 * exposure (fixed before treatment, as the estimator needs); units without a value form
 * "(not set)" (whole − Σ slices, exact on sufficient statistics).
 */

/** Strata with fewer units in an arm are merged into "(other)" (a within-stratum variance needs a few). */
export const MIN_UNITS_PER_STRATUM_ARM = 30;
export const NOT_SET = '(not set)';

const FIELDS = ['n', 'sum', 'sumSq', 'covSum', 'covSumSq', 'crossSum', 'sumDen', 'sumDenSq', 'sumNumDen'] as const;

function minus(a: ArmAggregate, b: ArmAggregate): ArmAggregate {
  const out = { ...a };
  for (const f of FIELDS) out[f] = a[f] - b[f];
  return out;
}

/** Per stratum value, the metric's (control, treatment) aggregates, plus the "(not set)" remainder. */
function strataOf(
  metricKey: string,
  control: string,
  treatment: string,
  whole: MetricAggregates,
  slices: Map<string, MetricAggregates>,
): Array<{ value: string; control: ArmAggregate; treatment: ArmAggregate }> {
  const arm = (m: MetricAggregates, v: string) => m.get(metricKey)?.get(v) ?? EMPTY_ARM;
  const out = [...slices].map(([value, m]) => ({ value, control: arm(m, control), treatment: arm(m, treatment) }));
  let restC = arm(whole, control);
  let restT = arm(whole, treatment);
  for (const s of out) {
    restC = minus(restC, s.control);
    restT = minus(restT, s.treatment);
  }
  if (restC.n > 0 || restT.n > 0) out.push({ value: NOT_SET, control: restC, treatment: restT });
  return out.filter((s) => s.control.n + s.treatment.n > 0);
}

/** Small strata merged into "(other)"; an "(other)" still too small joins the smallest stratum. */
function mergedStrata(strata: Stratum[]): Stratum[] {
  const merged = mergeSmallStrata(strata, MIN_UNITS_PER_STRATUM_ARM);
  const other = merged.find((s) => s.name === '(other)');
  const big = merged.filter((s) => s !== other);
  if (!other || big.length === 0 || Math.min(other.control.n, other.treatment.n) >= MIN_UNITS_PER_STRATUM_ARM) return merged;
  const size = (s: Stratum) => s.control.n + s.treatment.n;
  const smallest = big.reduce((a, b) => (size(b) < size(a) ? b : a));
  return [...big.filter((s) => s !== smallest), ...mergeSmallStrata([smallest, other], Number.POSITIVE_INFINITY)];
}

const METHOD = 'post-stratification';

/**
 * The post-stratified comparisons. Fixed: z interval of the estimator with its variance
 * conditional on the strata's arm sizes (the paper's §2). Sequential: the asymptotic confidence
 * sequence of the same moments (the estimator is asymptotically linear, like CUPED's), folded into
 * its own monotone sequence and corrected within its family; ratio metrics are not
 * post-stratified (a weighted mean of per-stratum ratios is another estimand).
 */
export function buildPostStratified(
  def: AnalysisDefinition,
  dimension: string,
  whole: MetricAggregates,
  slices: Map<string, MetricAggregates>,
  query: ResultsQuery,
  fold?: SequentialFold,
): PostStratifiedDto[] {
  if (def.variants.length < 2) return [];
  const control = def.variants[0].key;
  const folder = fold ?? new SequentialFold([], new Map(), plannedN(def), '');
  const families = { absolute: [] as Estimate[], relative: [] as Estimate[] };
  const sequenceOf = new Map<Estimate, SequenceInfoDto>();
  const alpha = query.alpha;
  const rows = def.metrics.flatMap((metric) =>
    def.variants.slice(1).map((v) => {
      const raw = strataOf(metric.key, control, v.key, whole, slices);
      const strata = mergedStrata(raw.map((s) => ({ name: s.value, control: toArmStats(metric, s.control), treatment: toArmStats(metric, s.treatment) })));
      const cupedWanted = metric.cupedLookbackDays > 0;
      const ps = metric.type === 'ratio' ? null : postStratify(strata, { cuped: cupedWanted });
      const reason = metric.type === 'ratio' ? 'ratio metrics are not post-stratified (a weighted mean of per-stratum ratios is another estimand)' : undefined;
      const absoluteM: Moments = ps ? ps.absolute : { ok: false, reason: reason ?? '' };
      const relativeM: Moments = ps ? ps.relative : { ok: false, reason: reason ?? '' };
      const nC = strata.reduce((a, s) => a + s.control.n, 0);
      const nT = strata.reduce((a, s) => a + s.treatment.n, 0);
      const cupedApplied = ps?.cuped.applied ?? false;
      const pooled = (k: 'control' | 'treatment'): ArmStats =>
        strata.reduce((a, s) => ({ n: a.n + s[k].n, sum: a.sum + s[k].sum, sumSq: a.sumSq + s[k].sumSq }), { n: 0, sum: 0, sumSq: 0 });
      const why = insufficientSample(pooled('control'), pooled('treatment'), metric.type === 'conversion' ? 'proportion' : 'mean');
      const label = (e: Estimate, scale: string): Estimate => {
        e.params = { ...e.params, estimator: METHOD, dimension, strata: strata.length, scale, cuped: cupedApplied ? 'within strata' : 'no' };
        return applyMinimum(e, why);
      };
      const seq = (m: Moments, relative: boolean): Estimate => {
        const e = label(confidenceSequenceFromMoments(m, nC, nT, { alpha, plannedSampleSize: plannedN(def), relative }), relative ? 'relative' : 'absolute');
        const r = folder.fold(metric, v.key, relative ? 'relative' : 'absolute', cupedApplied, e, query, metric.key, dimension);
        families[relative ? 'relative' : 'absolute'].push(r.estimate);
        if (fold) sequenceOf.set(r.estimate, r.sequence);
        return r.estimate;
      };
      return {
        metric,
        variant: v.key,
        ps,
        reason: reason ?? (absoluteM.ok ? undefined : absoluteM.reason),
        strata: strata.map((s) => ({ value: s.name, units: s.control.n + s.treatment.n })),
        absolute: { fixed: label(zFromMoments('post-stratified-z', absoluteM, nC, nT, alpha), 'absolute'), sequential: seq(absoluteM, false) },
        relative: { fixed: label(zFromMoments('post-stratified-relative-delta', relativeM, nC, nT, alpha), 'relative'), sequential: seq(relativeM, true) },
      };
    }),
  );
  correctFolded(CORRECTIONS[query.correction], families.absolute, alpha);
  correctFolded(CORRECTIONS[query.correction], families.relative, alpha);
  return rows.map((r) => {
    const dto: PostStratifiedDto = {
      method: METHOD,
      params: {
        dimension,
        strata: r.strata.length,
        weights: 'observed stratum shares (control + treatment units)',
        variance: 'conditional on the strata arm sizes: Σ W_h²(s²_t,h/n_t,h + s²_c,h/n_c,h)',
        minUnitsPerStratumArm: MIN_UNITS_PER_STRATUM_ARM,
        cuped: r.ps?.params.cuped ?? 'not applied',
        alpha,
      },
      metric: r.metric.key,
      variant: r.variant,
      dimension,
      strata: r.strata,
      cuped: r.ps ? r.ps.cuped : { applied: false, theta: 0, reason: 'ratio metric' },
      absolute: { fixed: inference(r.absolute.fixed), sequential: inference(r.absolute.sequential, sequenceOf.get(r.absolute.sequential)) },
      relative: { fixed: inference(r.relative.fixed), sequential: inference(r.relative.sequential, sequenceOf.get(r.relative.sequential)) },
    };
    if (r.reason) dto.reason = r.reason;
    return dto;
  });
}

function inference(e: Estimate, sequence?: SequenceInfoDto): InferenceDto {
  const out: InferenceDto = { method: e.method, params: e.params, estimate: e.estimate, ci: e.ci, pValue: e.pValue, significant: e.significant };
  if (e.adjustedPValue !== undefined) out.adjustedPValue = e.adjustedPValue;
  if (e.reason) out.reason = e.reason;
  if (e.insufficient) out.insufficient = e.insufficient;
  if (sequence) out.sequence = sequence;
  return out;
}
