/** Formatting shared by tables, charts and verdicts. */

/** Numbers everywhere go through Intl.NumberFormat (en-US): thousands separated, "221,210". */
const fixed = new Map<number, Intl.NumberFormat>();
function fixedDigits(digits: number): Intl.NumberFormat {
  let f = fixed.get(digits);
  if (!f) fixed.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

/** A share as a percent with `digits` decimals, signed by default: "+12.3%", "+1,234.5%". */
export function formatPct(x: number | null | undefined, digits = 1, signed = true): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const s = fixedDigits(digits).format(x * 100);
  return `${signed && x > 0 ? '+' : ''}${s}%`;
}

const integers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A figure with `digits` significant digits, thousands separated ("221,210", "0.0123"). */
export function formatNum(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1000) return integers.format(Math.round(x));
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: digits }).format(x);
}

/** A count, thousands separated: "221,210". */
export function formatInt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return integers.format(Math.round(x));
}

export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  if (p < 0.0001) return '< 0.0001';
  return p.toFixed(4);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatCi(ci: [number, number] | null, asPct = true): string {
  if (!ci) return '—';
  return asPct ? `${formatPct(ci[0])} to ${formatPct(ci[1])}` : `${formatNum(ci[0])} to ${formatNum(ci[1])}`;
}

const relative = new Intl.RelativeTimeFormat('en-US', { numeric: 'auto' });
const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** How long ago (or from now) an instant is, in its largest whole unit: "3 minutes ago", "yesterday", "just now". */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relative.format(Math.trunc(diff / ms), unit);
  }
  return 'just now';
}
