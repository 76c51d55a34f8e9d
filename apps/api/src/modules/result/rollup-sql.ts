import type { MetricType } from '@strata/contracts';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';

/**
 * SQL of the analysis, in one place so the rollup job, the results endpoint and the
 * "show me the SQL" export use the same definitions.
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

export function metricEventNames(metrics: AnalysisMetric[]): string[] {
  return [...new Set(metricEventRows(metrics)[1])];
}

const METRIC_ROWS = `unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[]) AS m(metric_key, event_name, role, window_hours, lookback_days)`;

/**
 * Which of a unit's events count, and where: `post` (first exposure ≤ ts, before the stop and
 * the attribution window's end) feeds the metric value; the pre-exposure lookback
 * [first exposure − lookback days, first exposure) of numerator events feeds the CUPED
 * covariate. The two are disjoint (ts < first_ts vs ts ≥ first_ts). `u` is the unit, `e` the
 * event, `m` the metric row; $8 is the stop time (null while running).
 */
const COUNTED_EVENT = `
     ((e.ts >= u.first_ts AND ($8::timestamptz IS NULL OR e.ts < $8::timestamptz)
       AND (m.window_hours IS NULL OR e.ts < u.first_ts + m.window_hours * interval '1 hour'))
   OR (m.role = 'num' AND m.lookback_days > 0
       AND e.ts >= u.first_ts - m.lookback_days * interval '1 day' AND e.ts < u.first_ts))`;

/** Sums per metric × unit × UTC event day × post/pre over events `e` joined to units `u`. */
const EVENT_SUMS = `m.metric_key, u.unit_id, u.variant_key, (e.ts AT TIME ZONE 'UTC')::date AS day, e.ts >= u.first_ts AS post,
         sum(CASE WHEN m.role = 'num' THEN coalesce(e.value, 0) ELSE 0 END) AS value,
         sum(CASE WHEN m.role = 'den' THEN coalesce(e.value, 1) ELSE 0 END) AS value_den,
         count(*) FILTER (WHERE m.role = 'num') AS event_count`;

/** Per metric × unit: the post-exposure totals and the pre-exposure covariate, from `agg`. */
const UNIT_TOTALS = `
  SELECT metric_key, unit_id,
         coalesce(sum(value) FILTER (WHERE post), 0) AS value,
         coalesce(sum(value_den) FILTER (WHERE post), 0) AS value_den,
         coalesce(sum(event_count) FILTER (WHERE post), 0) AS event_count,
         coalesce(sum(value) FILTER (WHERE NOT post), 0) AS pre_value,
         coalesce(sum(event_count) FILTER (WHERE NOT post), 0) AS pre_event_count
    FROM agg GROUP BY metric_key, unit_id`;

/**
 * Recomputes units from raw events in ONE pass over them (post-exposure sums per day and the
 * CUPED covariate together), writing `unit_metric_daily` and `unit_metric_rollups` (one row per
 * unit and metric, zeros included). `full`: every counted unit of the experiment (first build or
 * definition change: a hash join of the events with the units). Otherwise only units whose
 * exposure row arrived in (old watermark $11, watermark $7] — new units, or an earlier exposure
 * arriving late — probed by unit in events (partial index on unit_id).
 * $1 experiment, $2..$6 metric rows, $7 watermark, $8 stop time, $9 lower ts bound (partition
 * pruning), $10 distinct metric keys, [$11 old watermark]. Returns the number of units.
 * Rows are inserted in primary-key order so index inserts stay local.
 */
export function recomputeUnitsSql(full: boolean): string {
  return `
WITH u AS MATERIALIZED (
  SELECT f.unit_id, f.variant_key, f.first_ts FROM first_exposures f
   WHERE f.experiment_key = $1 AND NOT f.forced AND f.received_at <= $7${full ? '' : ' AND f.received_at > $11'}
), agg AS MATERIALIZED (
  SELECT ${EVENT_SUMS}
    FROM u
    JOIN events e ON e.unit_id = u.unit_id
    JOIN ${METRIC_ROWS} ON e.name = m.event_name
   WHERE e.type = 'metric' AND e.name = ANY($3::text[]) AND e.received_at <= $7 AND e.ts >= $9
     AND ${COUNTED_EVENT}
   GROUP BY 1, 2, 3, 4, 5
), daily AS (
  INSERT INTO unit_metric_daily (experiment_key, metric_key, unit_id, day, variant_key, value, value_den, event_count)
  SELECT $1, metric_key, unit_id, day, variant_key, value, value_den, event_count FROM agg WHERE post
   ORDER BY metric_key, unit_id, day
), totals AS (${UNIT_TOTALS}
), ins AS (
  INSERT INTO unit_metric_rollups (experiment_key, metric_key, unit_id, variant_key, first_ts, value, value_den, event_count, pre_value, pre_event_count)
  SELECT $1, k.metric_key, u.unit_id, u.variant_key, u.first_ts,
         coalesce(t.value, 0), coalesce(t.value_den, 0), coalesce(t.event_count, 0), coalesce(t.pre_value, 0), coalesce(t.pre_event_count, 0)
    FROM u CROSS JOIN unnest($10::text[]) AS k(metric_key)
    LEFT JOIN totals t ON t.metric_key = k.metric_key AND t.unit_id = u.unit_id
   ORDER BY k.metric_key, u.unit_id
)
SELECT count(*)::int AS n FROM u`;
}

/**
 * Adds the events received in (old watermark $9, watermark $7] to the rollups of units already
 * counted at the old watermark (exposure received ≤ $9), in place: per-day sums are upserted
 * (`+=`), per-unit totals and covariates incremented. Every stored value is a sum over events,
 * so this equals a recompute while touching only the new events (found by the received_at
 * index) and the rows they change — not every event of every unit that got one.
 * $1 experiment, $2..$6 metric rows, $7 watermark, $8 stop time, $9 old watermark.
 * Returns the number of units changed.
 */
export const ADD_NEW_EVENTS = `
WITH agg AS MATERIALIZED (
  SELECT ${EVENT_SUMS}
    FROM events e
    JOIN first_exposures u ON u.experiment_key = $1 AND u.unit_id = e.unit_id
    JOIN ${METRIC_ROWS} ON e.name = m.event_name
   WHERE e.received_at > $9 AND e.received_at <= $7 AND e.type = 'metric' AND e.name = ANY($3::text[])
     AND NOT u.forced AND u.received_at <= $9
     AND ${COUNTED_EVENT}
   GROUP BY 1, 2, 3, 4, 5
), daily AS (
  INSERT INTO unit_metric_daily AS d (experiment_key, metric_key, unit_id, day, variant_key, value, value_den, event_count)
  SELECT $1, metric_key, unit_id, day, variant_key, value, value_den, event_count FROM agg WHERE post
  ON CONFLICT (experiment_key, metric_key, unit_id, day) DO UPDATE
     SET value = d.value + EXCLUDED.value, value_den = d.value_den + EXCLUDED.value_den, event_count = d.event_count + EXCLUDED.event_count
), totals AS (${UNIT_TOTALS}
), upd AS (
  UPDATE unit_metric_rollups r
     SET value = r.value + t.value, value_den = r.value_den + t.value_den, event_count = r.event_count + t.event_count,
         pre_value = r.pre_value + t.pre_value, pre_event_count = r.pre_event_count + t.pre_event_count
    FROM totals t
   WHERE r.experiment_key = $1 AND r.metric_key = t.metric_key AND r.unit_id = t.unit_id
  RETURNING r.unit_id
)
SELECT count(DISTINCT unit_id)::int AS n FROM upd`;

/**
 * Units whose exposure row arrived in (old watermark $3, watermark $4] — new, forced, or with
 * an earlier first exposure — lose their rows before being recomputed (forced ones are never
 * counted). $1 experiment, $2 metric keys. Uses the primary key (experiment, metric, unit).
 * Returns the number of rows deleted.
 */
export function deleteChangedUnitsSql(table: 'unit_metric_daily' | 'unit_metric_rollups'): string {
  return `
WITH d AS (
  DELETE FROM ${table} r USING first_exposures f
   WHERE r.experiment_key = $1 AND r.metric_key = ANY($2::text[]) AND r.unit_id = f.unit_id
     AND f.experiment_key = $1 AND f.received_at > $3 AND f.received_at <= $4
  RETURNING 1
)
SELECT count(*)::int AS n FROM d`;
}

export const DELETE_ALL_DAILY = `DELETE FROM unit_metric_daily WHERE experiment_key = $1`;
export const DELETE_ALL_ROLLUPS = `DELETE FROM unit_metric_rollups WHERE experiment_key = $1`;

/** Earliest first exposure of the units a step recomputes ($3 null: all), for the partition-pruning bound. */
export const MIN_FIRST_TS = `
SELECT min(first_ts) AS lo FROM first_exposures
 WHERE experiment_key = $1 AND received_at <= $2 AND ($3::timestamptz IS NULL OR received_at > $3::timestamptz)`;

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

/** Segments are exposure attributes, or the UTC weekday of the first exposure. */
export function segmentExpression(segment: string | undefined): { expr: string; param: string | null } {
  if (!segment) return { expr: `''`, param: null };
  if (segment === 'day_of_week') return { expr: `trim(to_char(r.first_ts AT TIME ZONE 'UTC', 'Day'))`, param: null };
  return { expr: `coalesce(f.attributes ->> $4::text, '(none)')`, param: segment };
}

/** Most segment values reported; the rest are left out (top values by units). */
export const MAX_SEGMENT_VALUES = 20;

/** Whether a metric's per-unit values (and covariate) are capped at a pooled percentile. */
export function isWinsorized(metric: AnalysisMetric): boolean {
  return metric.type !== 'conversion' && metric.type !== 'ratio' && metric.winsorizePercentile !== null;
}

/**
 * Winsorization caps of one metric: the pooled percentile of y and of the covariate over all
 * counted units (percentile_cont, as `capThresholds` in @strata/stats). Computed once per request
 * and passed to the aggregates as parameters, so a parallel plan does not recompute it per worker.
 * $1 experiment, $2 metric, $3 percentile.
 */
export function capsSql(metric: AnalysisMetric): string {
  const { y, c } = unitValueExpressions(metric.type);
  return `
SELECT percentile_cont($3::float8) WITHIN GROUP (ORDER BY ${y}) AS y_cap,
       percentile_cont($3::float8) WITHIN GROUP (ORDER BY ${c}) AS c_cap
  FROM unit_metric_rollups r WHERE r.experiment_key = $1 AND r.metric_key = $2`;
}

/**
 * Per metric × variant sufficient statistics of every metric of an experiment in ONE pass over
 * its rollup rows (parallel-safe: the caps come in as parameters). y and the covariate c by
 * metric type (see unitValueExpressions), capped with LEAST (which ignores a NULL cap).
 * $1 experiment, $2 metric keys, $3 metric types, $4 y caps, $5 covariate caps (null = none).
 */
export const AGGREGATE_ALL_METRICS = `
SELECT r.metric_key, r.variant_key, count(*)::float8 AS n,
       sum(v.y) AS sum, sum(v.y * v.y) AS sum_sq, sum(v.c) AS cov_sum, sum(v.c * v.c) AS cov_sum_sq, sum(v.c * v.y) AS cross_sum,
       sum(r.value_den) AS sum_den, sum(r.value_den * r.value_den) AS sum_den_sq, sum(r.value_den * v.y) AS sum_num_den
  FROM unit_metric_rollups r
  JOIN unnest($2::text[], $3::text[], $4::float8[], $5::float8[]) AS m(metric_key, type, y_cap, c_cap) ON m.metric_key = r.metric_key
 CROSS JOIN LATERAL (
        SELECT LEAST(CASE m.type WHEN 'conversion' THEN CASE WHEN r.event_count > 0 THEN 1::float8 ELSE 0::float8 END
                                 WHEN 'count' THEN r.event_count::float8 ELSE r.value END, m.y_cap) AS y,
               LEAST(CASE m.type WHEN 'conversion' THEN CASE WHEN r.pre_event_count > 0 THEN 1::float8 ELSE 0::float8 END
                                 WHEN 'count' THEN r.pre_event_count::float8 ELSE r.pre_value END, m.c_cap) AS c) v
 WHERE r.experiment_key = $1
 GROUP BY r.metric_key, r.variant_key ORDER BY r.metric_key, r.variant_key`;

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

/**
 * Units per variant at the watermark, for experiments without metrics (otherwise the rollups'
 * per-variant n are the same units: every counted unit has a row per metric). $1 experiment, $2 watermark.
 */
export const UNITS_BY_VARIANT = `
SELECT variant_key, count(*)::float8 AS n FROM first_exposures
 WHERE experiment_key = $1 AND NOT forced AND received_at <= $2 GROUP BY variant_key`;

/** New units per UTC first-exposure day and variant. $1 experiment, $2 watermark. */
export const UNITS_BY_DAY = `
SELECT to_char((first_ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, variant_key, count(*)::float8 AS n
  FROM first_exposures
 WHERE experiment_key = $1 AND NOT forced AND received_at <= $2
 GROUP BY 1, 2 ORDER BY 1`;

/**
 * Day-by-day changes of each variant's sufficient statistics for one metric, in ONE query:
 * per unit, the running total up to each event day (window function); the change of y and y²
 * on that day; summed per day and variant. The caller adds running sums over days (so a day
 * without events carries the previous totals). $1 experiment, $2 metric.
 */
export function dailyDeltasSql(type: MetricType): string {
  const f = (v: string, cnt: string): string => {
    switch (type) {
      case 'conversion': return `CASE WHEN ${cnt} > 0 THEN 1::float8 ELSE 0::float8 END`;
      case 'count': return `(${cnt})::float8`;
      case 'mean':
      case 'ratio': return `(${v})`;
    }
  };
  return `
WITH c AS (
  SELECT day, variant_key, value, value_den, event_count,
         sum(value) OVER w AS cv, sum(value_den) OVER w AS cx, sum(event_count) OVER w AS cc
    FROM unit_metric_daily WHERE experiment_key = $1 AND metric_key = $2
  WINDOW w AS (PARTITION BY unit_id ORDER BY day)
), v AS (
  SELECT day, variant_key,
         ${f('cv', 'cc')} AS y1, ${f('cv - value', 'cc - event_count')} AS y0, cx AS x1, cx - value_den AS x0
    FROM c
)
SELECT to_char(day, 'YYYY-MM-DD') AS day, variant_key,
       sum(y1 - y0) AS d_sum, sum(y1 * y1 - y0 * y0) AS d_sum_sq,
       sum(x1 - x0) AS d_sum_den, sum(x1 * x1 - x0 * x0) AS d_sum_den_sq, sum(x1 * y1 - x0 * y0) AS d_sum_num_den
  FROM v GROUP BY day, variant_key ORDER BY day`;
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
