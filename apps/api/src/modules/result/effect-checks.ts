import { FIRST_EXPOSURE_DAY, type HeterogeneityDto, type NoveltyDto } from '@strata/contracts';
import { groupEffect, noveltyTrend, segmentHeterogeneity, type CohortEffect, type GroupEffect, type SegmentEffect } from '@strata/stats';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import { EMPTY_ARM, toArmStats, type ArmAggregate, type MetricAggregates } from './results-builder';
import type { DailyDelta, DailyUnits } from './timeseries-builder';

/**
 * Pure checks of the primary metric's effect over time (novelty) and across the declared segment
 * dimensions (heterogeneity), from the same stored slices the time series and `?segment=` read.
 */

const Z95 = 1.959963984540054;

function primaryOf(def: AnalysisDefinition): AnalysisMetric | undefined {
  return def.metrics.find((m) => m.role === 'primary');
}

function effectOf(metric: AnalysisMetric, control: ArmAggregate, treatment: ArmAggregate): GroupEffect | null {
  const e = groupEffect(toArmStats(metric, control), toArmStats(metric, treatment), metric.type === 'conversion' ? 'proportion' : 'mean');
  return e && Number.isFinite(e.estimate) && Number.isFinite(e.variance) && e.variance > 0 ? e : null;
}

/**
 * Novelty per treatment of the primary metric. The stored per-day slices are changes of the running
 * sums (units by first-exposure day, metric sums by event day), so each day-end read of the
 * cumulative arms gives an effect θ_d with variance v_d; the day's own effect is the independent
 * increment of information I_d = 1/v_d (the canonical joint distribution of cumulative estimates,
 * Jennison & Turnbull 2000, ch. 11): η_d = (I_d θ_d − I_{d−1} θ_{d−1})/(I_d − I_{d−1}), variance
 * 1/(I_d − I_{d−1}). Days that add no information are merged into the next. Absolute scale,
 * uncapped values (as the time series), unadjusted for CUPED. The fallback when exposure-day
 * cohorts are not available (buildCohortNovelty): its "cohorts" are calendar days.
 */
export function buildNovelty(def: AnalysisDefinition, days: string[], units: DailyUnits[], deltas: DailyDelta[], alpha: number): NoveltyDto[] {
  const metric = primaryOf(def);
  if (!metric || def.variants.length < 2) return [];
  const variants = def.variants.map((v) => v.key);
  const control = variants[0];
  const n = new Map(variants.map((v) => [v, 0]));
  const cum = new Map(variants.map((v) => [v, { ...EMPTY_ARM }]));
  const apply = (day: string) => {
    for (const u of units) if (u.day === day && n.has(u.variant)) n.set(u.variant, (n.get(u.variant) ?? 0) + u.n);
    for (const d of deltas) {
      const a = d.day === day ? cum.get(d.variant) : undefined;
      if (!a) continue;
      a.sum += d.dSum; a.sumSq += d.dSumSq; a.sumDen += d.dSumDen; a.sumDenSq += d.dSumDenSq; a.sumNumDen += d.dSumNumDen;
    }
  };
  const first = days[0] ?? '';
  [...new Set([...units.map((u) => u.day), ...deltas.map((d) => d.day)])].filter((d) => d < first).sort().forEach(apply);
  const arm = (v: string): ArmAggregate => ({ ...(cum.get(v) ?? EMPTY_ARM), n: n.get(v) ?? 0 });
  const cohorts = new Map<string, CohortEffect[]>(variants.slice(1).map((v) => [v, []]));
  const previous = new Map<string, { info: number; weighted: number }>();
  days.forEach((day, index) => {
    apply(day);
    for (const v of variants.slice(1)) {
      const e = effectOf(metric, arm(control), arm(v));
      if (!e) continue;
      const info = 1 / e.variance;
      const p = previous.get(v) ?? { info: 0, weighted: 0 };
      // Relative tolerance: a day that adds (almost) nothing is merged into the next one.
      if (!(info - p.info > 1e-9 * info)) continue;
      const added = info - p.info;
      cohorts.get(v)?.push({ day: index, estimate: (info * e.estimate - p.weighted) / added, variance: 1 / added });
      previous.set(v, { info, weighted: info * e.estimate });
    }
  });
  return variants.slice(1).map((v) => {
    const list = cohorts.get(v) ?? [];
    return noveltyDto(metric.key, v, list, alpha, { scale: 'absolute', cohorts: 'daily information increments of the cumulative effect', values: 'uncapped' });
  });
}

/** The trend test over one treatment's cohort effects, as the results JSON carries it (`extra`: how the cohorts were formed). */
function noveltyDto(metric: string, variant: string, list: CohortEffect[], alpha: number, extra: Record<string, string | number>): NoveltyDto {
  const r = noveltyTrend(list, { alpha });
  const dto: NoveltyDto = {
    method: r.method,
    params: { ...r.params, ...extra },
    metric,
    variant,
    cohorts: list.map((c) => ({ day: c.day, estimate: c.estimate, ci: [c.estimate - Z95 * Math.sqrt(c.variance), c.estimate + Z95 * Math.sqrt(c.variance)] })),
    slope: r.slope,
    pValue: r.pValue,
    flagged: r.flagged,
    pattern: r.pattern,
  };
  if (!r.defined) dto.reason = r.reason;
  return dto;
}

const DAY_MS = 86_400_000;

/** Whether novelty can use exposure-day cohorts: the cohort dimension declared and the primary metric windowed. */
export function cohortNoveltyAvailable(def: AnalysisDefinition): boolean {
  const metric = primaryOf(def);
  return def.segmentDimensions.includes(FIRST_EXPOSURE_DAY) && metric !== undefined && metric.type !== 'ratio' && metric.attributionWindowHours !== null;
}

/**
 * Novelty per treatment from the exposure-day cohorts (`first_exposure_day` slices: the units
 * first exposed on UTC day d, their metric sums over their attribution window). A cohort enters
 * only once its window has closed for every unit in it (d + 1 day + window ≤ `end`), so every
 * cohort's effect is measured over the same exposure age — a younger cohort that has had less time
 * to convert would otherwise look like a fading effect. Disjoint units, so the cohort effects
 * are independent and noveltyTrend's false alarm rate holds. Absolute scale, values winsorized as
 * the table, unadjusted for CUPED. `day` is days since the start's UTC day.
 */
export function buildCohortNovelty(def: AnalysisDefinition, slices: Map<string, MetricAggregates>, end: Date | null, alpha: number): NoveltyDto[] {
  const metric = primaryOf(def);
  if (!metric || def.variants.length < 2 || !def.startedAt || metric.attributionWindowHours === null) return [];
  const window = metric.attributionWindowHours;
  const control = def.variants[0].key;
  const start = Date.UTC(def.startedAt.getUTCFullYear(), def.startedAt.getUTCMonth(), def.startedAt.getUTCDate());
  const complete = [...slices]
    .map(([value, aggregates]) => ({ at: Date.parse(`${value}T00:00:00Z`), aggregates }))
    .filter((c) => Number.isFinite(c.at) && end !== null && c.at + DAY_MS + window * 3_600_000 <= end.getTime())
    .sort((a, b) => a.at - b.at);
  return def.variants.slice(1).map((v) => {
    const list: CohortEffect[] = [];
    for (const c of complete) {
      const arms = c.aggregates.get(metric.key);
      const e = effectOf(metric, arms?.get(control) ?? EMPTY_ARM, arms?.get(v.key) ?? EMPTY_ARM);
      if (e) list.push({ day: Math.round((c.at - start) / DAY_MS), ...e });
    }
    return noveltyDto(metric.key, v.key, list, alpha, {
      scale: 'absolute',
      cohorts: 'exposure-day cohorts (first_exposure_day), each over its full attribution window',
      attributionWindowHours: window,
      values: 'winsorized as the table',
    });
  });
}

/**
 * Heterogeneity per treatment of the primary metric across the declared dimensions (Cochran's Q per
 * dimension, Holm across them): each segment's absolute effect from its stored slice.
 */
export function buildHeterogeneity(
  def: AnalysisDefinition,
  dimensions: ReadonlyArray<{ dimension: string; slices: Map<string, MetricAggregates> }>,
  alpha: number,
): HeterogeneityDto[] {
  const metric = primaryOf(def);
  if (!metric || def.variants.length < 2 || dimensions.length === 0) return [];
  const control = def.variants[0].key;
  return def.variants.slice(1).flatMap((variant) => {
    const input = dimensions.map(({ dimension, slices }) => {
      const segments: SegmentEffect[] = [];
      for (const [segment, aggregates] of slices) {
        const arms = aggregates.get(metric.key);
        const e = effectOf(metric, arms?.get(control) ?? EMPTY_ARM, arms?.get(variant.key) ?? EMPTY_ARM);
        if (e) segments.push({ segment, ...e });
      }
      return { dimension, segments };
    });
    return segmentHeterogeneity(input, { alpha }).map((r, i) => {
      const dto: HeterogeneityDto = {
        method: r.method,
        params: { alpha, scale: 'absolute', segments: input[i].segments.length, acrossDimensions: 'holm', withinDimension: 'bonferroni' },
        metric: metric.key,
        variant: variant.key,
        dimension: r.dimension,
        q: r.q,
        df: r.df,
        pValue: r.pValue,
        adjustedPValue: r.adjustedPValue,
        iSquared: r.iSquared,
        flagged: r.flagged,
        highlighted: r.segments.filter((s) => s.highlighted).map((s) => s.segment),
      };
      if (!r.defined) dto.reason = r.reason;
      return dto;
    });
  });
}
