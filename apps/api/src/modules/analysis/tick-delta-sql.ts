/**
 * The tick's common case in ONE statement: metric events received in (wm, target] for units
 * whose exposure row did not change. Instead of subtracting a unit's whole contribution and
 * adding it back (every metric, every day, all in numeric), it applies only what changed:
 *
 * - the rollup rows of the (unit, metric) pairs that got counted events are incremented
 *   (`UPDATE … RETURNING old.*, new.*`, PostgreSQL 18), and the delta f(new) − f(old) of each
 *   pair goes to the whole-experiment and segment slices — pairs whose y, c and x did not move
 *   (a converted unit converting again) add nothing;
 * - the per-day rows are upserted (+=), and the time series gets the change of every day from
 *   the first day that got events on: days before it keep their running totals, so their
 *   contributions are the same and are not recomputed;
 * - integral outcomes (conversion, count, whole-amount means) are summed in int8 (PostgreSQL's
 *   int128 accumulators); only fractional values and ratio metrics go through numeric.
 *
 * Every statement reads the snapshot from before the statement (data-modifying CTEs do not see
 * each other's writes), so the old rows read here are exactly the rows the upserts change; the
 * new values are computed with the same float additions as the upserts, so the contribution
 * added equals the one a later subtraction or a rebuild computes.
 */
import { deltaSums, intsCondition, pointCasts, type Point } from './delta-sums';
import { COUNTED_EVENT, cExpr, METRIC_ROWS, METRIC_TYPES, NEW_EVENTS, runningY, SEGMENT_SLICES, SUMS, yExpr } from './engine-sql';

const METRIC_POINTS: Point[] = [
  { sign: 1, y: 'f.y1', c: 'f.c1', x: 'f.x1' },
  { sign: -1, y: 'f.y0', c: 'f.c0', x: 'f.x0' },
];

/** Running totals after (c1) and before (p1) the day, new and old (c0, p0): the day's change of Σy, Σy², … is their difference. */
// The common case (events on the unit's last day) leaves the running total before the day as it
// was: the two "before" points are equal and cancel, so their numeric work is skipped.
const SAME_BEFORE = 'f.yp1 = f.yp0 AND f.xp1 IS NOT DISTINCT FROM f.xp0';
const DAY_POINTS: Point[] = [
  { sign: 1, y: 'f.yc1', x: 'f.xc1' },
  { sign: -1, y: 'f.yp1', x: 'f.xp1', skip: SAME_BEFORE },
  { sign: -1, y: 'f.yc0', x: 'f.xc0' },
  { sign: 1, y: 'f.yp0', x: 'f.xp0', skip: SAME_BEFORE },
];

/**
 * The statement. `{{exclude}}`-free variant when no unit's exposure changed this tick (then no
 * anti-join against tick_units). Returns one row per changed experiment with its touched units.
 */
export function applyEventsSql(excludeTickUnits: boolean): string {
  const exclude = excludeTickUnits
    ? 'AND NOT EXISTS (SELECT 1 FROM tick_units t WHERE t.experiment_key = u.experiment_key AND t.unit_id = u.unit_id)'
    : '';
  const old = 'u.n0 AS event_count, u.v0 AS value, u.pn0 AS pre_event_count, u.pv0 AS pre_value';
  const neu = 'u.n1 AS event_count, u.v1 AS value, u.pn1 AS pre_event_count, u.pv1 AS pre_value';
  return `
WITH e AS MATERIALIZED (${NEW_EVENTS}
), agg AS MATERIALIZED (
  SELECT m.experiment_key, m.metric_key, u.unit_id, u.variant_key, u.segments, (e.ts AT TIME ZONE 'UTC')::date AS day, e.ts >= u.first_ts AS post,
         sum(CASE WHEN m.role = 'num' THEN coalesce(e.value, 0) ELSE 0 END) AS value,
         sum(CASE WHEN m.role = 'den' THEN coalesce(e.value, 1) ELSE 0 END) AS value_den,
         count(*) FILTER (WHERE m.role = 'num') AS event_count
    FROM e
   CROSS JOIN LATERAL (SELECT u.experiment_key, u.unit_id, u.variant_key, u.first_ts, u.segments FROM analysis_units u WHERE u.unit_id = e.unit_id OFFSET 0) u
    JOIN ${METRIC_ROWS} ON m.experiment_key = u.experiment_key AND m.event_name = e.name
   WHERE ${COUNTED_EVENT} ${exclude}
   GROUP BY 1, 2, 3, 4, 5, 6, 7
), tot AS (
  SELECT experiment_key, metric_key, unit_id, variant_key, segments,
         coalesce(sum(value) FILTER (WHERE post), 0) AS value,
         coalesce(sum(value_den) FILTER (WHERE post), 0) AS value_den,
         coalesce(sum(event_count) FILTER (WHERE post), 0) AS event_count,
         coalesce(sum(value) FILTER (WHERE NOT post), 0) AS pre_value,
         coalesce(sum(event_count) FILTER (WHERE NOT post), 0) AS pre_event_count
    FROM agg GROUP BY 1, 2, 3, 4, 5
), upd AS (
  UPDATE unit_metric_rollups r
     SET value = r.value + t.value, value_den = r.value_den + t.value_den, event_count = r.event_count + t.event_count,
         pre_value = r.pre_value + t.pre_value, pre_event_count = r.pre_event_count + t.pre_event_count
    FROM tot t
   WHERE r.experiment_key = t.experiment_key AND r.metric_key = t.metric_key AND r.unit_id = t.unit_id
  RETURNING r.experiment_key, r.metric_key, r.variant_key, t.segments,
            old.value AS v0, old.value_den AS x0, old.event_count AS n0, old.pre_value AS pv0, old.pre_event_count AS pn0,
            new.value AS v1, new.value_den AS x1, new.event_count AS n1, new.pre_value AS pv1, new.pre_event_count AS pn1
), md AS (
  SELECT u.experiment_key, u.segments, u.metric_key, u.variant_key,
         ${deltaSums(METRIC_POINTS, 'w')}
    FROM upd u
    JOIN ${METRIC_TYPES} ON k.experiment_key = u.experiment_key AND k.metric_key = u.metric_key
    LEFT JOIN analysis_caps cap ON cap.experiment_key = u.experiment_key AND cap.metric_key = u.metric_key
   CROSS JOIN LATERAL (SELECT ${old}) o
   CROSS JOIN LATERAL (SELECT ${neu}) n
   CROSS JOIN LATERAL (SELECT LEAST(${yExpr('k.type', 'o')}, cap.y_cap) AS y0, LEAST(${yExpr('k.type', 'n')}, cap.y_cap) AS y1,
                              LEAST(${cExpr('k.type', 'o')}, cap.c_cap) AS c0, LEAST(${cExpr('k.type', 'n')}, cap.c_cap) AS c1,
                              CASE WHEN k.type = 'ratio' THEN u.x0 END AS x0, CASE WHEN k.type = 'ratio' THEN u.x1 END AS x1 OFFSET 0) f
   CROSS JOIN LATERAL (SELECT ${intsCondition('k.type', METRIC_POINTS)} AS ints OFFSET 0) g
   CROSS JOIN LATERAL (SELECT ${pointCasts(METRIC_POINTS, 'g.ints')} OFFSET 0) w
   WHERE (f.y0, f.c0, f.x0) IS DISTINCT FROM (f.y1, f.c1, f.x1)
   GROUP BY 1, 2, 3, 4
), pairs AS (
  SELECT experiment_key, metric_key, unit_id, variant_key FROM agg WHERE post GROUP BY 1, 2, 3, 4
), days AS (
  -- Each touched pair's days: the stored (old) sums and the tick's additions, side by side.
  SELECT experiment_key, metric_key, unit_id, variant_key, day,
         sum(ov) AS ov, sum(ox) AS ox, sum(oc) AS oc, sum(av) AS av, sum(ax) AS ax, sum(ac) AS ac, bool_or(had) AS had, bool_or(added) AS added
    FROM (SELECT p.experiment_key COLLATE "C", p.metric_key COLLATE "C", p.unit_id COLLATE "C", p.variant_key, d.day, d.value AS ov, d.value_den AS ox, d.event_count::float8 AS oc,
                 NULL::float8 AS av, NULL::float8 AS ax, NULL::float8 AS ac, true AS had, false AS added
            FROM pairs p
           CROSS JOIN LATERAL (SELECT x.day, x.value, x.value_den, x.event_count FROM unit_metric_daily x
                                WHERE x.experiment_key = p.experiment_key AND x.metric_key = p.metric_key AND x.unit_id = p.unit_id OFFSET 0) d
          UNION ALL
          SELECT experiment_key, metric_key, unit_id, variant_key, day, NULL, NULL, NULL, value, value_den, event_count::float8, false, true
            FROM agg WHERE post) z
   GROUP BY 1, 2, 3, 4, 5
), cum AS (
  SELECT c.*, min(CASE WHEN c.added THEN c.day END) OVER pk AS first_added,
         sum(c.ov) OVER w AS cv0, sum(c.ox) OVER w AS cx0, sum(c.oc) OVER w AS cc0,
         sum(c.ov) OVER wp AS pv0, sum(c.ox) OVER wp AS px0, sum(c.oc) OVER wp AS pc0,
         sum(c.nv) OVER w AS cv1, sum(c.nx) OVER w AS cx1, sum(c.nc) OVER w AS cc1,
         sum(c.nv) OVER wp AS pv1, sum(c.nx) OVER wp AS px1, sum(c.nc) OVER wp AS pc1
    FROM (SELECT d.*,
                 CASE WHEN d.had AND d.added THEN d.ov + d.av WHEN d.had THEN d.ov ELSE d.av END AS nv,
                 CASE WHEN d.had AND d.added THEN d.ox + d.ax WHEN d.had THEN d.ox ELSE d.ax END AS nx,
                 CASE WHEN d.had AND d.added THEN d.oc + d.ac WHEN d.had THEN d.oc ELSE d.ac END AS nc
            FROM days d) c
  WINDOW pk AS (PARTITION BY c.experiment_key COLLATE "C", c.metric_key COLLATE "C", c.unit_id COLLATE "C"),
         w AS (pk ORDER BY c.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
         wp AS (pk ORDER BY c.day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), dd AS (
  SELECT c.experiment_key, c.metric_key, c.variant_key, c.day,
         ${deltaSums(DAY_POINTS, 'w')}
    FROM cum c
    JOIN ${METRIC_TYPES} ON k.experiment_key = c.experiment_key AND k.metric_key = c.metric_key
   CROSS JOIN LATERAL (SELECT ${runningY('k.type', 'coalesce(c.cv1, 0)', 'coalesce(c.cc1, 0)')} AS yc1, ${runningY('k.type', 'coalesce(c.pv1, 0)', 'coalesce(c.pc1, 0)')} AS yp1,
                              ${runningY('k.type', 'coalesce(c.cv0, 0)', 'coalesce(c.cc0, 0)')} AS yc0, ${runningY('k.type', 'coalesce(c.pv0, 0)', 'coalesce(c.pc0, 0)')} AS yp0,
                              CASE WHEN k.type = 'ratio' THEN coalesce(c.cx1, 0) END AS xc1, CASE WHEN k.type = 'ratio' THEN coalesce(c.px1, 0) END AS xp1,
                              CASE WHEN k.type = 'ratio' THEN coalesce(c.cx0, 0) END AS xc0, CASE WHEN k.type = 'ratio' THEN coalesce(c.px0, 0) END AS xp0 OFFSET 0) f
   CROSS JOIN LATERAL (SELECT ${intsCondition('k.type', DAY_POINTS)} AS ints OFFSET 0) g
   CROSS JOIN LATERAL (SELECT ${pointCasts(DAY_POINTS, 'g.ints')} OFFSET 0) w
   WHERE c.day >= c.first_added
   GROUP BY 1, 2, 3, 4
), stats AS (
  INSERT INTO analysis_stats AS s (experiment_key, dim, val, metric_key, variant_key, ${SUMS})
  SELECT experiment_key, dim, val, metric_key, variant_key, 0, sum(sum), sum(sum_sq), sum(cov_sum), sum(cov_sum_sq), sum(cross_sum), sum(sum_den), sum(sum_den_sq), sum(sum_num_den)
    FROM (SELECT g.experiment_key, sl.dim, sl.val, g.metric_key, g.variant_key, g.sum, g.sum_sq, g.cov_sum, g.cov_sum_sq, g.cross_sum, g.sum_den, g.sum_den_sq, g.sum_num_den
            FROM md g CROSS JOIN LATERAL (${SEGMENT_SLICES}) sl
          UNION ALL
          SELECT experiment_key, 'day', to_char(day, 'YYYY-MM-DD'), metric_key, variant_key, sum, sum_sq, cov_sum, cov_sum_sq, cross_sum, sum_den, sum_den_sq, sum_num_den
            FROM dd) x (experiment_key, dim, val, metric_key, variant_key, sum, sum_sq, cov_sum, cov_sum_sq, cross_sum, sum_den, sum_den_sq, sum_num_den)
   GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT (experiment_key, dim, val, metric_key, variant_key) DO UPDATE
     SET sum = s.sum + EXCLUDED.sum, sum_sq = s.sum_sq + EXCLUDED.sum_sq,
         cov_sum = s.cov_sum + EXCLUDED.cov_sum, cov_sum_sq = s.cov_sum_sq + EXCLUDED.cov_sum_sq, cross_sum = s.cross_sum + EXCLUDED.cross_sum,
         sum_den = s.sum_den + EXCLUDED.sum_den, sum_den_sq = s.sum_den_sq + EXCLUDED.sum_den_sq, sum_num_den = s.sum_num_den + EXCLUDED.sum_num_den
), daily AS (
  INSERT INTO unit_metric_daily AS d (experiment_key, metric_key, unit_id, day, variant_key, value, value_den, event_count)
  SELECT experiment_key, metric_key, unit_id, day, variant_key, value, value_den, event_count FROM agg WHERE post
  ON CONFLICT (experiment_key, metric_key, unit_id, day) DO UPDATE
     SET value = d.value + EXCLUDED.value, value_den = d.value_den + EXCLUDED.value_den, event_count = d.event_count + EXCLUDED.event_count
)
SELECT experiment_key, count(DISTINCT unit_id)::int AS units FROM agg GROUP BY 1`;
}
