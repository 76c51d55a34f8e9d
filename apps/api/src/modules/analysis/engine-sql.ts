/**
 * SQL of the analysis engine's tick, in one place. Every statement works on ALL affected
 * experiments at once (no loop over experiments): the tick's metric definitions come in as
 * arrays (`unnest`), its touched units sit in the temporary table `tick_units`.
 *
 * Named parameters `{{name}}` are bound by `bind()` (never string-concatenated user input).
 *   wm, target      the global watermark and the tick's new one (events.received_at)
 *   m_*             one row per experiment × metric × event role (numerator / denominator)
 *   k_*             one row per experiment × metric (its type)
 *   e_exp, e_dims   one row per experiment: its segment dimensions, comma-separated
 *   names           every event name any metric reads
 *   lo              lower bound on event time for a recompute (partition pruning)
 *
 * Per-unit values are defined in ../result/rollup-sql.ts and docs/analysis.md; the engine keeps
 * the same per-unit rollups (unit_metric_rollups, unit_metric_daily) and, on top, the per-variant
 * sufficient statistics in analysis_stats, changed by exact deltas: for every unit a tick
 * touches, its old contribution is subtracted before its rollup rows change and its new one
 * added after (numeric, so a sum of deltas equals the sum over units exactly).
 */

import { deltaSums, intsCondition, pointCasts, type Point } from './delta-sums';

/** Replaces `{{name}}` with `$n` and returns the parameter list in order. */
export function bind(sql: string, values: Record<string, unknown>): [string, unknown[]] {
  const order: string[] = [];
  const text = sql.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`unbound SQL parameter ${name}`);
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}`;
  });
  return [text, order.map((n) => values[n])];
}

/** Temporary table of the units one tick touches (rows vanish at commit). */
export const CREATE_TICK_UNITS = `
CREATE TEMP TABLE IF NOT EXISTS tick_units (
  experiment_key text NOT NULL,
  unit_id text NOT NULL,
  changed boolean NOT NULL,
  PRIMARY KEY (experiment_key, unit_id)
) ON COMMIT DELETE ROWS`;

export const METRIC_ROWS = `unnest({{m_exp}}::text[], {{m_metric}}::text[], {{m_event}}::text[], {{m_role}}::text[], {{m_window}}::int[], {{m_lookback}}::int[], {{m_stop}}::timestamptz[])
  AS m(experiment_key, metric_key, event_name, role, window_hours, lookback_days, stop_ts)`;

export const METRIC_TYPES = `unnest({{k_exp}}::text[], {{k_metric}}::text[], {{k_type}}::text[]) AS k(experiment_key, metric_key, type)`;

/** Which of a unit's events count (post-exposure window, or the numerator's CUPED lookback); see rollup-sql.ts. */
export const COUNTED_EVENT = `
     ((e.ts >= u.first_ts AND (m.stop_ts IS NULL OR e.ts < m.stop_ts)
       AND (m.window_hours IS NULL OR e.ts < u.first_ts + m.window_hours * interval '1 hour'))
   OR (m.role = 'num' AND m.lookback_days > 0
       AND e.ts >= u.first_ts - m.lookback_days * interval '1 day' AND e.ts < u.first_ts))`;

const EVENT_SUMS = `m.experiment_key, m.metric_key, u.unit_id, u.variant_key, (e.ts AT TIME ZONE 'UTC')::date AS day, e.ts >= u.first_ts AS post,
         sum(CASE WHEN m.role = 'num' THEN coalesce(e.value, 0) ELSE 0 END) AS value,
         sum(CASE WHEN m.role = 'den' THEN coalesce(e.value, 1) ELSE 0 END) AS value_den,
         count(*) FILTER (WHERE m.role = 'num') AS event_count`;

export const UNIT_TOTALS = `
  SELECT experiment_key, metric_key, unit_id,
         coalesce(sum(value) FILTER (WHERE post), 0) AS value,
         coalesce(sum(value_den) FILTER (WHERE post), 0) AS value_den,
         coalesce(sum(event_count) FILTER (WHERE post), 0) AS event_count,
         coalesce(sum(value) FILTER (WHERE NOT post), 0) AS pre_value,
         coalesce(sum(event_count) FILTER (WHERE NOT post), 0) AS pre_event_count
    FROM agg GROUP BY experiment_key, metric_key, unit_id`;

/** Experiments rebuilt from scratch (first build, definition change) lose every stored row first. */
export const DELETE_EXPERIMENT_STATE = [
  'DELETE FROM analysis_stats WHERE experiment_key = ANY($1::text[])',
  'DELETE FROM unit_metric_rollups WHERE experiment_key = ANY($1::text[])',
  'DELETE FROM unit_metric_daily WHERE experiment_key = ANY($1::text[])',
  'DELETE FROM analysis_units WHERE experiment_key = ANY($1::text[])',
  'DELETE FROM analysis_caps WHERE experiment_key = ANY($1::text[])',
];

/**
 * The metric events received in (wm, target] (BRIN on received_at), read once and first: every
 * tick statement over new events is driven by them, with keyed lookups (`OFFSET 0` keeps the
 * LATERAL subqueries parameterized, so the plan never turns into a scan of every unit's rows
 * when the planner's statistics lag behind a build).
 */
export const NEW_EVENTS = `SELECT e.unit_id, e.name, e.value, e.ts FROM events e
 WHERE e.received_at > {{wm}} AND e.received_at <= {{target}} AND e.type = 'metric' AND e.name = ANY({{names}}::text[])`;

/**
 * Units whose exposure row arrived in (wm, target] — new units, an earlier exposure arriving
 * late, or a forced one — in the incremental experiments (`first_exposures (experiment_key,
 * received_at)`, one index range per experiment). They are recomputed from raw events.
 */
export const TOUCH_EXPOSED = `
INSERT INTO tick_units (experiment_key, unit_id, changed)
SELECT f.experiment_key, f.unit_id, true FROM first_exposures f
 WHERE f.experiment_key = ANY({{exps}}::text[]) AND f.received_at > {{wm}} AND f.received_at <= {{target}}
ON CONFLICT DO NOTHING`;

/** Every counted unit of the rebuilt experiments, as of the target. */
export const TOUCH_REBUILT = `
INSERT INTO tick_units (experiment_key, unit_id, changed)
SELECT f.experiment_key, f.unit_id, true FROM first_exposures f
 WHERE f.experiment_key = ANY({{exps}}::text[]) AND NOT f.forced AND f.received_at <= {{target}}
ON CONFLICT DO NOTHING`;

/** Changed units lose their rows (forced ones are never counted again). */
export const DELETE_CHANGED = [
  `DELETE FROM unit_metric_rollups r USING tick_units t, ${METRIC_TYPES}
    WHERE t.changed AND k.experiment_key = t.experiment_key
      AND r.experiment_key = t.experiment_key AND r.metric_key = k.metric_key AND r.unit_id = t.unit_id`,
  `DELETE FROM unit_metric_daily r USING tick_units t, ${METRIC_TYPES}
    WHERE t.changed AND k.experiment_key = t.experiment_key
      AND r.experiment_key = t.experiment_key AND r.metric_key = k.metric_key AND r.unit_id = t.unit_id`,
  `DELETE FROM analysis_units a USING tick_units t WHERE t.changed AND a.unit_id = t.unit_id AND a.experiment_key = t.experiment_key`,
];

/** Earliest first exposure among the changed units, for the partition-pruning bound. */
export const MIN_CHANGED_FIRST_TS = `
SELECT min(f.first_ts) AS lo FROM tick_units t JOIN first_exposures f ON f.experiment_key = t.experiment_key AND f.unit_id = t.unit_id
 WHERE t.changed AND NOT f.forced AND f.received_at <= $1`;

/**
 * Recomputes the changed units of every experiment from raw events in ONE pass (window sums per
 * day and the CUPED covariate together): their analysis_units row (with segment values; the
 * pseudo-attributes `day_of_week` and `first_exposure_day`, the exposure-day cohort, come from first_ts),
 * unit_metric_daily rows and one unit_metric_rollups row per metric (zeros included).
 */
export const RECOMPUTE_CHANGED = `
WITH u AS MATERIALIZED (
  SELECT f.experiment_key, f.unit_id, f.variant_key, f.first_ts, f.attributes
    FROM tick_units t JOIN first_exposures f ON f.experiment_key = t.experiment_key AND f.unit_id = t.unit_id
   WHERE t.changed AND NOT f.forced AND f.received_at <= {{target}}
), units AS (
  INSERT INTO analysis_units (unit_id, experiment_key, variant_key, first_ts, segments)
  SELECT u.unit_id, u.experiment_key, u.variant_key, u.first_ts,
         coalesce((SELECT jsonb_object_agg(d, CASE WHEN d = 'day_of_week' THEN trim(to_char(u.first_ts AT TIME ZONE 'UTC', 'Day'))
                                                   WHEN d = 'first_exposure_day' THEN to_char((u.first_ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')
                                                   ELSE coalesce(u.attributes ->> d, '(none)') END)
                     FROM unnest(string_to_array(x.dims, ',')) AS d), '{}'::jsonb)
    FROM u JOIN unnest({{e_exp}}::text[], {{e_dims}}::text[]) AS x(experiment_key, dims) ON x.experiment_key = u.experiment_key
), agg AS MATERIALIZED (
  SELECT ${EVENT_SUMS}
    FROM u
    JOIN events e ON e.unit_id = u.unit_id
    JOIN ${METRIC_ROWS} ON m.experiment_key = u.experiment_key AND m.event_name = e.name
   WHERE e.type = 'metric' AND e.name = ANY({{names}}::text[]) AND e.received_at <= {{target}} AND e.ts >= {{lo}}
     AND ${COUNTED_EVENT}
   GROUP BY 1, 2, 3, 4, 5, 6
), daily AS (
  INSERT INTO unit_metric_daily (experiment_key, metric_key, unit_id, day, variant_key, value, value_den, event_count)
  SELECT experiment_key, metric_key, unit_id, day, variant_key, value, value_den, event_count FROM agg WHERE post
   ORDER BY experiment_key, metric_key, unit_id, day
), totals AS (${UNIT_TOTALS}
), ins AS (
  INSERT INTO unit_metric_rollups (experiment_key, metric_key, unit_id, variant_key, first_ts, value, value_den, event_count, pre_value, pre_event_count)
  SELECT u.experiment_key, k.metric_key, u.unit_id, u.variant_key, u.first_ts,
         coalesce(t.value, 0), coalesce(t.value_den, 0), coalesce(t.event_count, 0), coalesce(t.pre_value, 0), coalesce(t.pre_event_count, 0)
    FROM u JOIN ${METRIC_TYPES} ON k.experiment_key = u.experiment_key
    LEFT JOIN totals t ON t.experiment_key = u.experiment_key AND t.metric_key = k.metric_key AND t.unit_id = u.unit_id
   ORDER BY u.experiment_key, k.metric_key, u.unit_id
)
SELECT count(*)::int AS n FROM u`;

/** Per-unit outcome y and covariate c by metric type, over a rollup row `r` and a type column. */
export function yExpr(type: string, r: string): string {
  return `CASE ${type} WHEN 'conversion' THEN CASE WHEN ${r}.event_count > 0 THEN 1::float8 ELSE 0::float8 END
                       WHEN 'count' THEN ${r}.event_count::float8 ELSE ${r}.value END`;
}
export function cExpr(type: string, r: string): string {
  return `CASE ${type} WHEN 'conversion' THEN CASE WHEN ${r}.pre_event_count > 0 THEN 1::float8 ELSE 0::float8 END
                       WHEN 'count' THEN ${r}.pre_event_count::float8 ELSE ${r}.pre_value END`;
}
/** y of a running total (value, count as float8) by type: counts are exact integers in float8 below 2^53. */
export function runningY(type: string, v: string, cnt: string): string {
  return `CASE ${type} WHEN 'conversion' THEN CASE WHEN ${cnt} > 0 THEN 1::float8 ELSE 0::float8 END WHEN 'count' THEN ${cnt} ELSE ${v} END`;
}

/** One unit's values (build and cap recomputation). */
const BUILD_POINTS: Point[] = [{ sign: 1, y: 'f.y', c: 'f.c', x: 'f.x' }];
/** A day's change of a unit's running total. */
const DAY_BUILD_POINTS: Point[] = [
  { sign: 1, y: 'f.y1', x: 'f.x1' },
  { sign: -1, y: 'f.y0', x: 'f.x0' },
];

/** The slices a group of units with the same segment values `g.segments` adds to: the whole experiment and each segment value. */
export const SEGMENT_SLICES = `SELECT '' AS dim, '' AS val UNION ALL SELECT s.key, s.value FROM jsonb_each_text(g.segments) s`;

export type ContributionScope = 'tick' | 'experiments';
export interface ContributionParts {
  /** Per-metric statistics per experiment and segment value (winsorized with the frozen caps). */
  metrics: boolean;
  /** Unit counts (metric ''), per experiment, segment value and first-exposure day. */
  units: boolean;
  /** Per-day changes of each metric's sums (uncapped), for the time series. */
  daily: boolean;
}

export const SUMS = 'n, sum, sum_sq, cov_sum, cov_sum_sq, cross_sum, sum_den, sum_den_sq, sum_num_den';

/**
 * Adds `{{sign}}` × the contribution of a set of units to analysis_stats. Scope `tick`: the
 * units in tick_units; `experiments`: every counted unit of `{{exps}}` (cap recomputation).
 * A contribution is a function of the unit's current rollup rows only, so subtracting it before
 * a change and adding it after applies the exact delta. Units are summed per combination of
 * segment values first (few groups), and only those groups are spread over the slices.
 */
export function contributionsSql(scope: ContributionScope, parts: ContributionParts, keyed = false): string {
  const units = !keyed
    ? scope === 'tick'
      ? 'tick_units t JOIN analysis_units a ON a.unit_id = t.unit_id AND a.experiment_key = t.experiment_key'
      : 'analysis_units a'
    : `tick_units t CROSS JOIN LATERAL (SELECT a.experiment_key, a.unit_id, a.variant_key, a.first_ts, a.segments FROM analysis_units a
                                          WHERE a.unit_id = t.unit_id AND a.experiment_key = t.experiment_key OFFSET 0) a`;
  // Keyed (a tick's few units): every row read by primary key from the touched units, never a scan
  // of the experiment's rows joined back (what the planner picks when a build left stale statistics).
  const rollup = (table: string, alias: string, cols: string) =>
    keyed
      ? `CROSS JOIN LATERAL (SELECT ${cols} FROM ${table} x WHERE x.experiment_key = a.experiment_key AND x.metric_key = k.metric_key AND x.unit_id = a.unit_id OFFSET 0) ${alias}`
      : `JOIN ${table} ${alias} ON ${alias}.experiment_key = a.experiment_key AND ${alias}.metric_key = k.metric_key AND ${alias}.unit_id = a.unit_id`;
  const where = scope === 'tick' ? '' : 'WHERE a.experiment_key = ANY({{exps}}::text[])';
  const zero = '0::numeric';
  const selects: string[] = [];
  if (parts.metrics) {
    selects.push(`
    SELECT g.experiment_key, sl.dim, sl.val, g.metric_key, g.variant_key, ${SUMS}
      FROM (
        SELECT a.experiment_key, a.segments, k.metric_key, a.variant_key, count(*) AS n,
               ${deltaSums(BUILD_POINTS, 'v')}
          FROM ${units}
          JOIN ${METRIC_TYPES} ON k.experiment_key = a.experiment_key
          ${rollup('unit_metric_rollups', 'r', 'x.value, x.value_den, x.event_count, x.pre_value, x.pre_event_count')}
          LEFT JOIN analysis_caps cap ON cap.experiment_key = a.experiment_key AND cap.metric_key = k.metric_key
         CROSS JOIN LATERAL (SELECT LEAST(${yExpr('k.type', 'r')}, cap.y_cap) AS y, LEAST(${cExpr('k.type', 'r')}, cap.c_cap) AS c,
                                    CASE WHEN k.type = 'ratio' THEN r.value_den END AS x OFFSET 0) f
         CROSS JOIN LATERAL (SELECT ${intsCondition('k.type', BUILD_POINTS)} AS ints OFFSET 0) i
         CROSS JOIN LATERAL (SELECT ${pointCasts(BUILD_POINTS, 'i.ints')} OFFSET 0) v
         ${where}
         GROUP BY 1, 2, 3, 4
      ) g
     CROSS JOIN LATERAL (${SEGMENT_SLICES}) sl`);
  }
  if (parts.units) {
    selects.push(`
    SELECT g.experiment_key, sl.dim, sl.val, '', g.variant_key, g.n, ${zero}, ${zero}, ${zero}, ${zero}, ${zero}, ${zero}, ${zero}, ${zero}
      FROM (
        SELECT a.experiment_key, a.segments, a.variant_key, to_char((a.first_ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, count(*) AS n
          FROM ${units} ${where}
         GROUP BY 1, 2, 3, 4
      ) g
     CROSS JOIN LATERAL (${SEGMENT_SLICES} UNION ALL SELECT 'day', g.day) sl`);
  }
  if (parts.daily) {
    // Per unit and event day: the change of y, y² (and ratio terms) from the previous event day's
    // running total to this day's (the previous one summed by the window, never by subtraction).
    selects.push(`
    SELECT c.experiment_key, 'day', to_char(c.day, 'YYYY-MM-DD'), c.metric_key, c.variant_key, 0::bigint,
           ${deltaSums(DAY_BUILD_POINTS, 'v')}
      FROM (
        SELECT d.experiment_key, d.metric_key, d.day, a.variant_key, k.type,
               sum(d.value) OVER w AS cv, sum(d.value_den) OVER w AS cx, sum(d.event_count::float8) OVER w AS cc,
               coalesce(sum(d.value) OVER wp, 0) AS pv, coalesce(sum(d.value_den) OVER wp, 0) AS px, coalesce(sum(d.event_count::float8) OVER wp, 0) AS pc
          FROM ${units}
          JOIN ${METRIC_TYPES} ON k.experiment_key = a.experiment_key
          ${rollup('unit_metric_daily', 'd', 'x.experiment_key, x.metric_key, x.unit_id, x.day, x.value, x.value_den, x.event_count')}
          ${where}
        WINDOW pk AS (PARTITION BY d.experiment_key COLLATE "C", d.metric_key COLLATE "C", d.unit_id COLLATE "C"),
               w AS (pk ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               wp AS (pk ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
      ) c
     CROSS JOIN LATERAL (SELECT ${runningY('c.type', 'c.cv', 'c.cc')} AS y1, ${runningY('c.type', 'c.pv', 'c.pc')} AS y0,
                                CASE WHEN c.type = 'ratio' THEN c.cx END AS x1, CASE WHEN c.type = 'ratio' THEN c.px END AS x0 OFFSET 0) f
     CROSS JOIN LATERAL (SELECT ${intsCondition('c.type', DAY_BUILD_POINTS)} AS ints OFFSET 0) i
     CROSS JOIN LATERAL (SELECT ${pointCasts(DAY_BUILD_POINTS, 'i.ints')} OFFSET 0) v
     GROUP BY 1, 2, 3, 4, 5`);
  }
  return `
INSERT INTO analysis_stats AS s (experiment_key, dim, val, metric_key, variant_key, ${SUMS})
SELECT experiment_key, dim, val, metric_key, variant_key,
       {{sign}}::int * sum(n), {{sign}}::int * sum(sum), {{sign}}::int * sum(sum_sq), {{sign}}::int * sum(cov_sum), {{sign}}::int * sum(cov_sum_sq),
       {{sign}}::int * sum(cross_sum), {{sign}}::int * sum(sum_den), {{sign}}::int * sum(sum_den_sq), {{sign}}::int * sum(sum_num_den)
  FROM (${selects.join('\n    UNION ALL')}
  ) x (experiment_key, dim, val, metric_key, variant_key, ${SUMS})
 GROUP BY experiment_key, dim, val, metric_key, variant_key
ON CONFLICT (experiment_key, dim, val, metric_key, variant_key) DO UPDATE
   SET n = s.n + EXCLUDED.n, sum = s.sum + EXCLUDED.sum, sum_sq = s.sum_sq + EXCLUDED.sum_sq,
       cov_sum = s.cov_sum + EXCLUDED.cov_sum, cov_sum_sq = s.cov_sum_sq + EXCLUDED.cov_sum_sq, cross_sum = s.cross_sum + EXCLUDED.cross_sum,
       sum_den = s.sum_den + EXCLUDED.sum_den, sum_den_sq = s.sum_den_sq + EXCLUDED.sum_den_sq, sum_num_den = s.sum_num_den + EXCLUDED.sum_num_den`;
}

/** Stats rows of metrics whose caps change (every slice but the uncapped per-day one). */
export const DELETE_METRIC_STATS = `
DELETE FROM analysis_stats s USING unnest($1::text[], $2::text[]) AS x(experiment_key, metric_key)
 WHERE s.experiment_key = x.experiment_key AND s.metric_key = x.metric_key AND s.dim <> 'day'`;

/**
 * Winsorization caps: the pooled percentile of y and of the covariate over the counted units of
 * each (experiment, metric) given (percentile_cont, as capThresholds in @strata/stats), stored
 * with the time, the unit count and the experiment's rows_version they were computed at.
 */
export const COMPUTE_CAPS = `
INSERT INTO analysis_caps AS c (experiment_key, metric_key, percentile, y_cap, c_cap, units, rows_version, computed_at)
SELECT w.experiment_key, w.metric_key, w.p,
       percentile_cont(w.p) WITHIN GROUP (ORDER BY ${yExpr('w.type', 'r')}),
       percentile_cont(w.p) WITHIN GROUP (ORDER BY ${cExpr('w.type', 'r')}),
       count(r.unit_id), coalesce(max(aw.rows_version), 0), now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS w(experiment_key, metric_key, type, p)
  LEFT JOIN unit_metric_rollups r ON r.experiment_key = w.experiment_key AND r.metric_key = w.metric_key
  LEFT JOIN analysis_watermarks aw ON aw.experiment_key = w.experiment_key
 GROUP BY w.experiment_key, w.metric_key, w.p
ON CONFLICT (experiment_key, metric_key) DO UPDATE
   SET percentile = EXCLUDED.percentile, y_cap = EXCLUDED.y_cap, c_cap = EXCLUDED.c_cap, units = EXCLUDED.units,
       rows_version = EXCLUDED.rows_version, computed_at = EXCLUDED.computed_at`;

/** Per-experiment state of the experiments a tick changed: rows_version goes up, hash recorded. */
export const SAVE_EXPERIMENT_STATE = `
INSERT INTO analysis_watermarks AS w (experiment_key, watermark, definition_hash, rows_version, updated_at)
SELECT x.experiment_key, $3, x.hash, 1, now() FROM unnest($1::text[], $2::text[]) AS x(experiment_key, hash)
ON CONFLICT (experiment_key) DO UPDATE
   SET watermark = EXCLUDED.watermark, definition_hash = EXCLUDED.definition_hash, rows_version = w.rows_version + 1, updated_at = now()`;

export const SAVE_ENGINE_STATE = `
INSERT INTO analysis_engine_state AS s (shard, watermark, ticks, updated_at) VALUES (0, $1, 1, now())
ON CONFLICT (shard) DO UPDATE SET watermark = EXCLUDED.watermark, ticks = s.ticks + 1, updated_at = now()`;
