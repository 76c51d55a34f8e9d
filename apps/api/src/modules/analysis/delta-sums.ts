/**
 * SQL fragments that sum a contribution Σ sign × (y, y², c, c², cy, x, x², xy) over "points"
 * (a unit's values before and after a change, or one unit's values in a build), exactly:
 * integral values in int8 (PostgreSQL's int128 accumulators), the others in numeric.
 * Used by the tick's delta statement (tick-delta-sql.ts) and the contributions (engine-sql.ts).
 *
 * The per-row values must sit in `LATERAL (… OFFSET 0)` subqueries: without the fence the planner
 * inlines each value's expression into every aggregate that reads it, and a row then costs the
 * whole expression tree (and its float8 → numeric conversions) a dozen times over.
 */

/** The eight sums after n, in analysis_stats' column order. */
const SUM_COLUMNS = ['sum', 'sum_sq', 'cov_sum', 'cov_sum_sq', 'cross_sum', 'sum_den', 'sum_den_sq', 'sum_num_den'];

/** Below 2^30 a value's square and a sum of four of them stay inside int8. */
const INT_LIMIT = 1073741824;

export interface Point {
  sign: 1 | -1;
  /** Outcome y (float8 expression). */
  y: string;
  /** CUPED covariate c (float8), when the point has one. */
  c?: string;
  /** Ratio denominator x (float8), when the point has one. */
  x?: string;
  /** When true, the point's numeric values are taken as 0 (it cancels exactly against another point). */
  skip?: string;
}

/**
 * Whether every y and c of the points is an integer inside INT_LIMIT: then the int8 path gives
 * exactly the numbers numeric would (a float8 integer below 2^30 converts to numeric exactly), and
 * float8 → numeric (a print and a parse, ~2 µs) is the tick's most expensive operation. Conversion
 * and count values always are; mean values often are (whole amounts). Ratio rows stay numeric.
 */
export function intsCondition(type: string, points: Point[]): string {
  const vals = points.flatMap((p) => [p.y, ...(p.c ? [p.c] : [])]);
  return `(${type} <> 'ratio' AND ${vals.map((v) => `${v} = trunc(${v}) AND abs(${v}) < ${INT_LIMIT}`).join(' AND ')})`;
}

/** Per point: its values as int8 (integer rows) or numeric (the others), one of the two NULL. */
export function pointCasts(points: Point[], ints: string): string {
  return points
    .flatMap((p, i) => {
      const num = (v: string) => (p.skip ? `CASE WHEN ${p.skip} THEN 0::numeric ELSE (${v})::numeric END` : `(${v})::numeric`);
      return [
      `CASE WHEN ${ints} THEN (${p.y})::int8 END AS yi${i}`,
      `CASE WHEN NOT ${ints} THEN ${num(p.y)} END AS yn${i}`,
      ...(p.c ? [`CASE WHEN ${ints} THEN (${p.c})::int8 END AS ci${i}`, `CASE WHEN NOT ${ints} THEN ${num(p.c)} END AS cn${i}`] : []),
      ...(p.x ? [`${num(p.x)} AS xn${i}`] : []),
      ];
    })
    .join(', ');
}

/** The eight sums (sum … sum_num_den) of Σ sign × (y, y², c, c², cy, x, x², xy) over the points, int8 and numeric parts added. */
export function deltaSums(points: Point[], w: string): string {
  const term = (f: (i: number, p: Point) => string | null) =>
    points
      .map((p, i) => {
        const e = f(i, p);
        return e === null ? null : `${p.sign < 0 ? '-' : '+'} ${e}`;
      })
      .filter((e): e is string => e !== null)
      .join(' ');
  const both = (f: (s: string, i: number, p: Point) => string | null) => {
    const ti = term((i, p) => f('i', i, p));
    const tn = term((i, p) => f('n', i, p));
    return ti ? `coalesce(sum(${ti}), 0) + coalesce(sum(${tn}), 0)` : '0::numeric';
  };
  const num = (f: (i: number, p: Point) => string | null) => {
    const t = term(f);
    return t ? `coalesce(sum(${t}), 0)` : '0::numeric';
  };
  return [
    both((s, i) => `${w}.y${s}${i}`),
    both((s, i) => `${w}.y${s}${i} * ${w}.y${s}${i}`),
    both((s, i, p) => (p.c ? `${w}.c${s}${i}` : null)),
    both((s, i, p) => (p.c ? `${w}.c${s}${i} * ${w}.c${s}${i}` : null)),
    both((s, i, p) => (p.c ? `${w}.c${s}${i} * ${w}.y${s}${i}` : null)),
    num((i, p) => (p.x ? `${w}.xn${i}` : null)),
    num((i, p) => (p.x ? `${w}.xn${i} * ${w}.xn${i}` : null)),
    num((i, p) => (p.x ? `${w}.xn${i} * ${w}.yn${i}` : null)),
  ]
    .map((e, i) => `${e} AS ${SUM_COLUMNS[i]}`)
    .join(',\n           ');
}

