import type { ExperimentTimeseriesDto, TimeseriesPointDto } from '@strata/contracts';
import { sequentialConfidenceSequence } from '@strata/stats';
import type { AnalysisDefinition } from './analysis-definition';
import { EMPTY_ARM, toArmStats, type ArmAggregate } from './results-builder';

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
 * Running sums over days of the per-day changes, then the sequential (always-valid) CI of the
 * relative lift per metric and treatment at the end of each day. Unadjusted for CUPED and
 * winsorization (the results endpoint applies both to the current numbers).
 */
export function buildTimeseries(
  def: AnalysisDefinition,
  days: string[],
  units: DailyUnits[],
  deltas: Map<string, DailyDelta[]>,
  alpha: number,
  plannedSampleSize: number,
): ExperimentTimeseriesDto {
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
  const points: TimeseriesPointDto[] = days.map((day) => {
    apply(day);
    const lift: TimeseriesPointDto['lift'] = {};
    for (const m of def.metrics) {
      const plain = { ...m, cupedLookbackDays: 0 };
      const arm = (v: string): ArmAggregate => ({ ...(cum.get(m.key)?.get(v) ?? EMPTY_ARM), n: n.get(v) ?? 0 });
      const c = toArmStats(plain, arm(control));
      lift[m.key] = {};
      for (const v of variants.slice(1)) {
        const e = sequentialConfidenceSequence(c, toArmStats(plain, arm(v)), { alpha, plannedSampleSize, relative: true });
        lift[m.key][v] = { estimate: e.estimate, ci: e.ci };
      }
    }
    return { date: day, unitsByVariant: Object.fromEntries(n), lift };
  });
  return { experiment: def.key, control, metrics: def.metrics.map((m) => m.key), points };
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
