import type { MetricType } from '@strata/contracts';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';

/**
 * Per-unit definitions shared by the results' segment fallback, the unit export and the
 * "show me the SQL" export (the engine's own tick SQL is ../analysis/engine-sql.ts).
 *
 * Per-unit metric values (a unit = a row of first_exposures that is not forced):
 *   conversion  1 if the unit emitted the event at least once in its window, else 0
 *   count       number of events in the window
 *   mean        sum of event values in the window (missing values count 0)
 *   ratio       sum of numerator values / sum of denominator values (missing denominator value = 1,
 *               so a bare `session` event counts one), analysed with the delta method over units
 * The window runs from the unit's first exposure to the experiment's stop (or the metric's
 * attribution window, whichever ends first). Units without events count as 0.
 */

/** Parallel arrays for `unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[])`: one row per (metric, event role). */
export function metricEventRows(metrics: AnalysisMetric[]): [string[], string[], string[], (number | null)[], number[]] {
  const keys: string[] = [], names: string[] = [], roles: string[] = [], windows: (number | null)[] = [], lookbacks: number[] = [];
  for (const m of metrics) {
    keys.push(m.key); names.push(m.eventName); roles.push('num'); windows.push(m.attributionWindowHours); lookbacks.push(m.cupedLookbackDays);
    if (m.type === 'ratio' && m.denominatorEventName) {
      keys.push(m.key); names.push(m.denominatorEventName); roles.push('den'); windows.push(m.attributionWindowHours); lookbacks.push(0);
    }
  }
  return [keys, names, roles, windows, lookbacks];
}

const METRIC_ROWS = `unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[]) AS m(metric_key, event_name, role, window_hours, lookback_days)`;

/** Per-unit outcome y and covariate c of a metric type, over a rollup row aliased `r`. */
export function unitValueExpressions(type: MetricType): { y: string; c: string } {
  switch (type) {
    case 'conversion':
      return { y: 'CASE WHEN r.event_count > 0 THEN 1::float8 ELSE 0::float8 END', c: 'CASE WHEN r.pre_event_count > 0 THEN 1::float8 ELSE 0::float8 END' };
    case 'count':
      return { y: 'r.event_count::float8', c: 'r.pre_event_count::float8' };
    case 'mean':
    case 'ratio':
      return { y: 'r.value', c: 'r.pre_value' };
  }
}

/** Segments are exposure attributes, the UTC weekday of the first exposure, or its UTC day (the exposure-day cohort). */
export function segmentExpression(segment: string | undefined): { expr: string; param: string | null } {
  if (!segment) return { expr: `''`, param: null };
  if (segment === 'day_of_week') return { expr: `trim(to_char(r.first_ts AT TIME ZONE 'UTC', 'Day'))`, param: null };
  if (segment === 'first_exposure_day') return { expr: `to_char((r.first_ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')`, param: null };
  return { expr: `coalesce(f.attributes ->> $4::text, '(none)')`, param: segment };
}

/** Most segment values reported; the rest are left out (top values by units). */
export const MAX_SEGMENT_VALUES = 20;

/** Whether a metric's per-unit values (and covariate) are capped at a pooled percentile. */
export function isWinsorized(metric: AnalysisMetric): boolean {
  return metric.type !== 'conversion' && metric.type !== 'ratio' && metric.winsorizePercentile !== null;
}

/**
 * Per segment × variant sufficient statistics of one metric, from the rollups only (top
 * MAX_SEGMENT_VALUES segment values by units). Winsorization caps are the experiment-wide ones.
 * $1 experiment, $2 metric, $3 y cap, $4 covariate cap (null = none), [$5 segment attribute].
 */
export function segmentAggregateSql(metric: AnalysisMetric, segment: string): { sql: string; segmentParam: string | null } {
  const { y, c } = unitValueExpressions(metric.type);
  const seg = segmentExpression(segment);
  const expr = seg.expr.replace('$4::text', '$5::text');
  const joinExposure = seg.param !== null ? 'JOIN first_exposures f ON f.experiment_key = r.experiment_key AND f.unit_id = r.unit_id' : '';
  const sql = `
WITH u AS (
  SELECT r.variant_key, ${expr} AS segment, LEAST(${y}, $3::float8) AS y, LEAST(${c}, $4::float8) AS c, r.value_den AS x
    FROM unit_metric_rollups r ${joinExposure}
   WHERE r.experiment_key = $1 AND r.metric_key = $2
), top AS (
  SELECT segment FROM u GROUP BY segment ORDER BY count(*) DESC, segment LIMIT ${MAX_SEGMENT_VALUES}
)
SELECT segment, variant_key, count(*)::float8 AS n,
       sum(y) AS sum, sum(y * y) AS sum_sq, sum(c) AS cov_sum, sum(c * c) AS cov_sum_sq, sum(c * y) AS cross_sum,
       sum(x) AS sum_den, sum(x * x) AS sum_den_sq, sum(x * y) AS sum_num_den
  FROM u WHERE segment IN (SELECT segment FROM top) GROUP BY segment, variant_key ORDER BY segment, variant_key`;
  return { sql, segmentParam: seg.param };
}

/** Literal for the "show me the SQL" export: single quotes doubled, no backslash escapes. */
export function sqlLiteral(value: string | number | null | Date | string[] | (number | null)[]): string {
  if (value === null) return 'NULL';
  if (value instanceof Date) return `'${value.toISOString()}'::timestamptz`;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number' || v === null)) return `ARRAY[${value.map((v) => (v === null ? 'NULL' : String(v))).join(', ')}]::int[]`;
    return `ARRAY[${value.map((v) => sqlLiteral(v)).join(', ')}]::text[]`;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('non-finite number in SQL literal');
    return String(value);
  }
  if (value.includes('\u0000')) throw new Error('NUL in SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Replaces $n placeholders with literals in one pass (a literal containing "$1" is never re-read). */
export function inlineParameters(sql: string, params: Parameters<typeof sqlLiteral>[0][]): string {
  return sql.replace(/\$(\d+)/g, (whole, n: string) => {
    const i = Number(n) - 1;
    return i < params.length ? sqlLiteral(params[i]) : whole;
  });
}

/**
 * The self-contained SQL an analyst can rerun to get the per-variant aggregates of one metric
 * straight from raw events (no rollup tables), with the experiment's parameters inlined.
 */
export function standaloneAggregateSql(def: AnalysisDefinition, metric: AnalysisMetric, watermark: Date | null): string {
  const rows = metricEventRows([metric]);
  const { y, c } = unitValueExpressions(metric.type);
  const capped = metric.type !== 'conversion' && metric.type !== 'ratio' && metric.winsorizePercentile !== null;
  const sql = `
-- Strata: per-variant sufficient statistics of metric ${metric.key} (${metric.type}) in experiment ${def.key}, from raw events.
WITH d AS (
  SELECT f.unit_id, f.variant_key, f.first_ts FROM first_exposures f
   WHERE f.experiment_key = $1 AND NOT f.forced AND f.received_at <= $7
), post AS (
  SELECT m.metric_key, d.unit_id,
         sum(CASE WHEN m.role = 'num' THEN coalesce(e.value, 0) ELSE 0 END) AS value,
         sum(CASE WHEN m.role = 'den' THEN coalesce(e.value, 1) ELSE 0 END) AS value_den,
         count(*) FILTER (WHERE m.role = 'num') AS event_count
    FROM d JOIN events e ON e.unit_id = d.unit_id
    JOIN ${METRIC_ROWS} ON e.name = m.event_name
   WHERE e.type = 'metric' AND e.received_at <= $7 AND e.ts >= d.first_ts
     AND ($8::timestamptz IS NULL OR e.ts < $8::timestamptz)
     AND (m.window_hours IS NULL OR e.ts < d.first_ts + m.window_hours * interval '1 hour')
   GROUP BY m.metric_key, d.unit_id
), pre AS (
  SELECT d.unit_id, sum(coalesce(e.value, 0)) AS pre_value, count(*) AS pre_event_count
    FROM d JOIN events e ON e.unit_id = d.unit_id
    JOIN ${METRIC_ROWS} ON e.name = m.event_name AND m.role = 'num' AND m.lookback_days > 0
   WHERE e.type = 'metric' AND e.received_at <= $7
     AND e.ts >= d.first_ts - m.lookback_days * interval '1 day' AND e.ts < d.first_ts
   GROUP BY d.unit_id
), r AS (
  SELECT d.variant_key, coalesce(post.value, 0) AS value, coalesce(post.value_den, 0) AS value_den,
         coalesce(post.event_count, 0) AS event_count, coalesce(pre.pre_value, 0) AS pre_value, coalesce(pre.pre_event_count, 0) AS pre_event_count
    FROM d LEFT JOIN post ON post.unit_id = d.unit_id LEFT JOIN pre ON pre.unit_id = d.unit_id
), u AS (
  SELECT r.variant_key, ${y} AS y, ${c} AS c, r.value_den AS x FROM r
), caps AS (
  SELECT ${capped ? 'percentile_cont($9::float8) WITHIN GROUP (ORDER BY y)' : 'NULL::float8'} AS y_cap,
         ${capped ? 'percentile_cont($9::float8) WITHIN GROUP (ORDER BY c)' : 'NULL::float8'} AS c_cap
    FROM ${capped ? 'u' : '(SELECT 1) AS one'}
), w AS (
  SELECT u.variant_key, coalesce(LEAST(u.y, caps.y_cap), u.y) AS y, coalesce(LEAST(u.c, caps.c_cap), u.c) AS c, u.x FROM u CROSS JOIN caps
)
SELECT variant_key, count(*) AS n, sum(y) AS sum, sum(y * y) AS sum_sq, sum(c) AS cov_sum, sum(c * c) AS cov_sum_sq,
       sum(c * y) AS cross_sum, sum(x) AS sum_den, sum(x * x) AS sum_den_sq, sum(x * y) AS sum_num_den
  FROM w GROUP BY variant_key ORDER BY variant_key;`;
  return inlineParameters(sql, [
    def.key, rows[0], rows[1], rows[2], rows[3], rows[4],
    watermark ?? new Date('9999-12-31T00:00:00Z'), def.stoppedAt, metric.winsorizePercentile,
  ]);
}
