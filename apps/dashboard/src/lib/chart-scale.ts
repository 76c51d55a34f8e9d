/** Axis helpers for the results charts: round ticks that include zero, and a y-range fitted to recent data. */

/** A "nice" step (1, 2, 2.5 or 5 × 10^k) giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 0.01;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * mag;
}

/** Ticks on round values covering [lo, hi] and always including 0; the domain is [first, last]. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; domain: [number, number] } {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  const step = niceStep(b - a || Math.abs(a) || 0.01, count);
  const start = Math.floor(a / step + 1e-9) * step;
  const end = Math.ceil(b / step - 1e-9) * step;
  const ticks: number[] = [];
  // Rounding to 10 decimals keeps 0.1 + 0.2 from producing 0.30000000000000004 as a tick.
  for (let t = start; t <= end + step / 2; t += step) ticks.push(Math.round(t * 1e10) / 1e10 + 0);
  return { ticks, domain: [ticks[0] as number, ticks[ticks.length - 1] as number] };
}

/**
 * The y-range of the lift chart. `all` spans every interval (day one's are huge); `latest` spans the
 * last `recent` days' intervals, so today's interval is readable — earlier, wider bands are clipped.
 */
export function liftDomain(
  bands: Array<[number, number] | null | undefined>,
  fit: 'latest' | 'all',
  recent = 3,
): { ticks: number[]; domain: [number, number] } {
  const defined = bands.filter((b): b is [number, number] => Array.isArray(b));
  const used = fit === 'latest' ? defined.slice(-recent) : defined;
  if (used.length === 0) return niceTicks(-0.01, 0.01);
  return niceTicks(Math.min(...used.map((b) => b[0])), Math.max(...used.map((b) => b[1])));
}

/** Day-over-day differences of cumulative counts (units per day from the cumulative series). */
export function dailyFromCumulative(values: number[]): number[] {
  return values.map((v, i) => (i === 0 ? v : v - (values[i - 1] ?? 0)));
}
