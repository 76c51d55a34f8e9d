/**
 * Set-based SQL of the interaction checks (docs/analysis.md, "Interaction checks across layers").
 * Every statement runs in the refresh's REPEATABLE READ transaction, so the per-unit values of all
 * experiments are those of one engine state.
 */

/** Running experiments with a primary metric and engine state: what a pair needs, plus the change signature. */
export const CANDIDATE_EXPERIMENTS = `
SELECT e.key, e.layer_key, e.variants, e.primary_metric, m.type, c.y_cap, w.rows_version,
       coalesce((SELECT sum(s.n) FROM analysis_stats s
                  WHERE s.experiment_key = e.key AND s.dim = '' AND s.val = '' AND s.metric_key = ''), 0)::bigint AS units
  FROM experiments e
  JOIN metrics m ON m.key = e.primary_metric
  JOIN analysis_watermarks w ON w.experiment_key = e.key
  LEFT JOIN analysis_caps c ON c.experiment_key = e.key AND c.metric_key = e.primary_metric
 WHERE e.status = 'running'
 ORDER BY e.key`;

/**
 * The candidates' per-unit primary-metric values as the engine stores them (unit_metric_rollups,
 * one row per counted unit and metric, zeros included; variant = the unit's arm), capped at the
 * frozen winsorization cap like the results, on a hash sample of units: buckets/1024 of unit ids
 * by hashtext (independent of the assignment hash, which is salted per layer). Cost: one keyed
 * range per experiment's primary metric.
 */
export const CREATE_INTERACTION_UNITS = `
CREATE TEMP TABLE ix_units ON COMMIT DROP AS
SELECT r.unit_id, c.exp, c.layer, r.variant_key AS arm,
       LEAST(CASE c.type WHEN 'conversion' THEN CASE WHEN r.event_count > 0 THEN 1::float8 ELSE 0::float8 END
                         WHEN 'count' THEN r.event_count::float8 ELSE r.value END, c.cap) AS y,
       r.value_den AS x
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[]) AS c(exp, layer, metric, type, cap)
  JOIN unit_metric_rollups r ON r.experiment_key = c.exp AND r.metric_key = c.metric
 WHERE $6::int >= 1024 OR (hashtext(r.unit_id) & 1023) < $6::int`;

/**
 * Per (pair, arm of A, arm of B): n and both experiments' sums, over the units they share (a join
 * on unit id: a unit in k analysed experiments of distinct layers yields k(k−1)/2 rows), kept
 * only for pairs sharing at least $1 units. Replaces every cell of the previous refresh.
 */
export const REPLACE_CELLS = [
  'DELETE FROM analysis_interaction_cells',
  `INSERT INTO analysis_interaction_cells (exp_a, exp_b, arm_a, arm_b, n,
          a_sum, a_sum_sq, a_sum_den, a_sum_den_sq, a_sum_num_den, b_sum, b_sum_sq, b_sum_den, b_sum_den_sq, b_sum_num_den)
   SELECT exp_a, exp_b, arm_a, arm_b, n, a_sum, a_sum_sq, a_sum_den, a_sum_den_sq, a_sum_num_den, b_sum, b_sum_sq, b_sum_den, b_sum_den_sq, b_sum_num_den
     FROM (SELECT a.exp AS exp_a, b.exp AS exp_b, a.arm AS arm_a, b.arm AS arm_b, count(*) AS n,
                  sum(a.y) AS a_sum, sum(a.y * a.y) AS a_sum_sq, sum(a.x) AS a_sum_den, sum(a.x * a.x) AS a_sum_den_sq, sum(a.x * a.y) AS a_sum_num_den,
                  sum(b.y) AS b_sum, sum(b.y * b.y) AS b_sum_sq, sum(b.x) AS b_sum_den, sum(b.x * b.x) AS b_sum_den_sq, sum(b.x * b.y) AS b_sum_num_den,
                  sum(count(*)) OVER (PARTITION BY a.exp, b.exp) AS shared
             FROM ix_units a JOIN ix_units b ON b.unit_id = a.unit_id AND b.exp > a.exp AND b.layer <> a.layer
            GROUP BY a.exp, b.exp, a.arm, b.arm) s
    WHERE shared >= $1`,
];

export const READ_CELLS = `
SELECT exp_a, exp_b, arm_a, arm_b, n, a_sum, a_sum_sq, a_sum_den, a_sum_den_sq, a_sum_num_den,
       b_sum, b_sum_sq, b_sum_den, b_sum_den_sq, b_sum_num_den
  FROM analysis_interaction_cells ORDER BY exp_a, exp_b, arm_a, arm_b`;

/** One statement per chunk of tests (arrays, never string-built values). */
export const INSERT_TESTS = `
INSERT INTO analysis_interactions (subject, other, metric_key, units, method, df, statistic, estimate, se, p_value,
                                   adjusted_p, flagged, contrasts, reason, sample_fraction, computed_at, correction, fdr)
SELECT subject, other, metric_key, units, method, df, statistic, estimate, se, p_value, adjusted_p, flagged, contrasts, reason, $15, $16, $17, $18
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::float8[], $8::float8[], $9::float8[],
              $10::float8[], $11::float8[], $12::boolean[], $13::jsonb[], $14::text[])
       AS t(subject, other, metric_key, units, method, df, statistic, estimate, se, p_value, adjusted_p, flagged, contrasts, reason)`;

/** One refresh at a time across API processes (the transaction's lock). */
export const INTERACTION_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('strata.interactions', 0))`;
