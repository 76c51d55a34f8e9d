import type { ExperimentTimeseriesDto, ResultsQuery, TimeseriesPointDto } from '@strata/contracts';
import { monotoneSeries, resultsTable, sequentialObservation, type DailyRead, type Estimate } from '@strata/stats';
import type { AnalysisDefinition } from './analysis-definition';
import { EMPTY_ARM, STATS_OPTIONS, toArmStats, type ArmAggregate } from './results-builder';
import { isWinsorized } from './rollup-sql';
import type { SequentialFold } from './sequential-fold';

/** One row of dailyDeltasSql: how a variant's sums changed on a day. */
export interface DailyDelta {
  day: string;
  variant: string;
  dSum: number;
  dSumSq: number;
  dSumDen: number;
  dSumDenSq: number;
  dSumNumDen: number;
}

export interface DailyUnits {
  day: string;
  variant: string;
  n: number;
}

/** UTC days from `from` to `to` inclusive, as YYYY-MM-DD. */
export function utcDays(from: Date, to: Date): string[] {
  const out: string[] = [];
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  const end = Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate());
  for (let t = start; t <= end && out.length < 3660; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/**
 * Running sums over days of the per-day changes, then the sequential (always-valid) relative
 * lift per metric and treatment at the end of each day, with the table's settings (STATS_OPTIONS),
 * shown as the monotone series (running-min p, running-intersection interval: monotoneSeries).
 * With a `fold` (the experiment's stored sequences for `query`), every day-end read is folded into
 * the persisted relative sequence too and the LAST day shows that sequence's state — exactly what
 * the results table shows for the same data. Unadjusted for CUPED; winsorized metrics are shown
 * uncapped and not folded (their stored sequence is of the capped values), so only their last
 * day's interval can differ from the table's.
 */
export function buildTimeseries(
  def: AnalysisDefinition,
  days: string[],
  units: DailyUnits[],
  deltas: Map<string, DailyDelta[]>,
  query: ResultsQuery,
  plannedSampleSize: number,
  fold?: SequentialFold,
): ExperimentTimeseriesDto {
  const alpha = query.alpha;
  const variants = def.variants.map((v) => v.key);
  const control = variants[0] ?? '';
  const n = new Map(variants.map((v) => [v, 0]));
  const cum = new Map(def.metrics.map((m) => [m.key, new Map(variants.map((v) => [v, { ...EMPTY_ARM }]))]));
  const unitsByDay = groupBy(units, (u) => u.day);
  const deltasByDay = new Map([...deltas].map(([k, rows]) => [k, groupBy(rows, (r) => r.day)]));
  // Days before the first requested day still count (e.g. exposures just before the start).
  const first = days[0] ?? '';
  const apply = (day: string) => {
    for (const u of unitsByDay.get(day) ?? []) if (n.has(u.variant)) n.set(u.variant, (n.get(u.variant) ?? 0) + u.n);
    for (const m of def.metrics) {
      for (const d of deltasByDay.get(m.key)?.get(day) ?? []) {
        const a = cum.get(m.key)?.get(d.variant);
        if (!a) continue;
        a.sum += d.dSum; a.sumSq += d.dSumSq; a.sumDen += d.dSumDen; a.sumDenSq += d.dSumDenSq; a.sumNumDen += d.dSumNumDen;
      }
    }
  };
  const earlier = new Set<string>([...unitsByDay.keys(), ...[...deltasByDay.values()].flatMap((g) => [...g.keys()])].filter((d) => d < first));
  [...earlier].sort().forEach(apply);
  // Per metric × treatment: each day's fresh sequential relative estimate.
  const reads = new Map<string, Estimate[]>();
  const cell = (metric: string, variant: string) => `${metric}\0${variant}`;
  const unitsByVariant: Record<string, number>[] = [];
  for (const day of days) {
    apply(day);
    unitsByVariant.push(Object.fromEntries(n));
    const inputs = def.metrics.map((m) => {
      const plain = { ...m, cupedLookbackDays: 0 };
      const arm = (v: string): ArmAggregate => ({ ...(cum.get(m.key)?.get(v) ?? EMPTY_ARM), n: n.get(v) ?? 0 });
      return {
        name: m.key,
        kind: m.type === 'conversion' ? ('proportion' as const) : ('mean' as const),
        control: toArmStats(plain, arm(control)),
        variants: variants.slice(1).map((v) => ({ name: v, stats: toArmStats(plain, arm(v)) })),
      };
    });
    const table = def.variants.length >= 2 ? resultsTable(inputs, { ...STATS_OPTIONS, alpha, plannedSampleSize, correction: 'none', cuped: false }) : { comparisons: [] };
    for (const c of table.comparisons) {
      const k = cell(c.metric, c.variant);
      const list = reads.get(k);
      if (list) list.push(c.sequential.relative);
      else reads.set(k, [c.sequential.relative]);
    }
  }
  const series = new Map<string, { estimate: number; ci: [number, number] | null }[]>();
  for (const m of def.metrics) {
    for (const v of variants.slice(1)) {
      const list = reads.get(cell(m.key, v)) ?? [];
      const daily: DailyRead[] = list.map((e, i) => {
        const o = sequentialObservation(e, 'timeseries', alpha);
        return { date: days[i], estimate: e.estimate, pValue: o.pValue, ci: o.ci };
      });
      const points: { estimate: number; ci: [number, number] | null }[] = monotoneSeries('timeseries', daily).map((d) => ({ estimate: d.estimate, ci: d.ci }));
      if (fold && !isWinsorized(m) && list.length > 0) {
        let last: Estimate | null = null;
        for (const e of list) last = fold.fold(m, v, 'relative', false, e, query).estimate;
        if (last) points[points.length - 1] = { estimate: last.estimate, ci: last.ci };
      }
      series.set(cell(m.key, v), points);
    }
  }
  const points: TimeseriesPointDto[] = days.map((day, i) => {
    const lift: TimeseriesPointDto['lift'] = {};
    for (const m of def.metrics) {
      lift[m.key] = {};
      for (const v of variants.slice(1)) {
        const p = series.get(cell(m.key, v))?.[i];
        if (p) lift[m.key][v] = p;
      }
    }
    return { date: day, unitsByVariant: unitsByVariant[i], lift };
  });
  return {
    experiment: def.key,
    control,
    metrics: def.metrics.map((m) => m.key),
    method: {
      method: 'asymptotic-confidence-sequence, monotone (running-min p, running-intersection ci)',
      params: { alpha, plannedSampleSize, relativeInterval: STATS_OPTIONS.relativeInterval, lastDay: fold ? 'persisted sequence (same as the results table)' : 'day-end reads only' },
    },
    points,
  };
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}
