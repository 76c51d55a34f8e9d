import type {
  ExperimentResultsDto,
  InferenceDto,
  Interval,
  MetricResultDto,
  PostStratifiedDto,
  VariantComparisonDto,
} from '@strata/contracts';
import { formatCi, formatInt, formatNum, formatPct } from '../../lib/format';
import { verdictFor, type InferenceMode } from '../../lib/verdict';
import { DataTable, type Column } from '../DataTable';
import { Loading } from '../States';
import { CiChart, type CiRow } from './CiChart';

interface Row {
  ps: PostStratifiedDto;
  metric: MetricResultDto | undefined;
  variant: VariantComparisonDto | undefined;
  unadjusted: { absolute: InferenceDto | null; relative: InferenceDto } | null;
  adjusted: { absolute: InferenceDto; relative: InferenceDto };
}

/**
 * The post-stratified estimate of every metric × treatment (`?stratify=<dimension>`) beside the
 * unadjusted one, and how much narrower its interval is. Informational: the decision banner keeps
 * the pre-declared unadjusted sequential test, so nothing here changes a recommendation.
 */
export function PostStratifiedCard({
  results,
  dimension,
  mode,
  pending = false,
}: {
  results: ExperimentResultsDto;
  dimension: string;
  mode: InferenceMode;
  /** The results shown are the previous query's (kept while the stratified ones load). */
  pending?: boolean;
}) {
  const rows: Row[] = (results.postStratified ?? [])
    .filter((ps) => ps.dimension === dimension)
    .map((ps) => {
      const metric = results.metrics.find((m) => m.metric === ps.metric);
      const variant = metric?.variants.find((v) => v.variant === ps.variant);
      const unadjusted = variant?.relative ? { absolute: variant.absolute?.[mode] ?? null, relative: variant.relative[mode] } : null;
      return { ps, metric, variant, unadjusted, adjusted: { absolute: ps.absolute[mode], relative: ps.relative[mode] } };
    });
  const merged = new Set(rows.flatMap((r) => r.ps.strata.map((s) => s.value)).filter((v) => v === '(other)' || v === '(not set)'));
  const columns: readonly Column<Row>[] = [
    { header: 'Metric', cell: ({ ps, metric }) => metric?.name ?? ps.metric },
    { header: 'Variant', cell: ({ ps }) => ps.variant },
    {
      header: 'Unadjusted lift',
      cell: ({ unadjusted, metric }) => (
        <Estimate inf={unadjusted?.relative ?? null} abs={unadjusted?.absolute ?? null} type={metric?.type} />
      ),
    },
    {
      header: 'Post-stratified lift',
      cell: ({ ps, adjusted, metric }) =>
        ps.reason ? (
          <span className="muted">Not post-stratified: {ps.reason}</span>
        ) : (
          <>
            <Estimate inf={adjusted.relative} abs={adjusted.absolute} type={metric?.type} />
            {ps.cuped.applied ? <span className="muted small"> · with CUPED within strata</span> : null}
          </>
        ),
    },
    {
      header: 'Interval width',
      cell: ({ ps, adjusted, unadjusted }) => (ps.reason ? '—' : narrowing(unadjusted?.relative.ci ?? null, adjusted.relative.ci)),
    },
    {
      header: 'Strata',
      cell: ({ ps }) => (ps.strata.length ? ps.strata.map((s) => `${s.value} (${formatInt(s.units)} units)`).join(', ') : '—'),
    },
  ];
  return (
    <div className="card" data-testid="post-stratified">
      <h2>Post-stratified by {dimension}</h2>
      <p className="muted small">
        {mode === 'sequential' ? 'Always-valid (sequential) intervals' : 'Fixed-horizon intervals'}: each treatment’s effect estimated
        within the {dimension} strata and weighted by their share of units (Miratrix, Sekhon &amp; Yu 2013), beside the unadjusted
        comparison.
        {merged.has('(other)') ? ' “(other)” merges the strata with too few units in an arm.' : ''}
        {merged.has('(not set)') ? ` “(not set)” holds the units exposed without a ${dimension}.` : ''}
      </p>
      <p className="small" data-testid="post-stratified-note">
        The recommendation banner still uses the unadjusted sequential test; post-stratification only narrows the intervals shown here.
      </p>
      {pending ? (
        <Loading label={`Post-stratifying by ${dimension}…`} />
      ) : rows.length === 0 ? (
        <p className="muted">No post-stratified results for {dimension} yet.</p>
      ) : (
        <>
          <DataTable
            columns={columns}
            rows={rows}
            rowKey={(r) => `${r.ps.metric}-${r.ps.variant}`}
            label={`Post-stratified results by ${dimension}`}
          />
          {results.metrics.map((m) => (
            <CiChart
              key={m.metric}
              rows={chartRows(rows.filter((r) => r.ps.metric === m.metric))}
              label={`Intervals of the lift of ${m.name}, unadjusted and post-stratified by ${dimension}, against zero`}
            />
          ))}
        </>
      )}
    </div>
  );
}

/** Per treatment, the unadjusted and the post-stratified interval, one bar each (none where undefined). */
function chartRows(rows: Row[]): CiRow[] {
  return rows.flatMap(({ ps, metric, variant, unadjusted, adjusted }) => {
    const bars: Array<[string, InferenceDto | null]> = [
      [`${ps.variant} unadjusted`, unadjusted?.relative ?? null],
      [`${ps.variant} post-stratified`, ps.reason ? null : adjusted.relative],
    ];
    return bars.flatMap(([label, inf]) =>
      inf?.ci && !inf.reason && metric && variant
        ? [{ variant: label, estimate: inf.estimate, ci: inf.ci, tone: verdictFor(metric, variant, inf).tone }]
        : [],
    );
  });
}

function Estimate({ inf, abs, type }: { inf: InferenceDto | null; abs: InferenceDto | null; type: MetricResultDto['type'] | undefined }) {
  if (!inf || inf.reason || !inf.ci) return <span className="muted">{inf?.reason ?? '—'}</span>;
  return (
    <>
      <span className="strong">{formatPct(inf.estimate)}</span> ({formatCi(inf.ci)})
      {abs && !abs.reason ? (
        <span className="muted small">
          {' '}
          · absolute {formatAbsolute(abs.estimate, type)} ({formatAbsolute(abs.ci?.[0], type)} to {formatAbsolute(abs.ci?.[1], type)})
        </span>
      ) : null}
    </>
  );
}

/** A difference of conversion rates in percentage points; of means and counts in the metric's unit. */
function formatAbsolute(x: number | undefined, type: MetricResultDto['type'] | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (type === 'conversion') return `${x > 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
  return `${x > 0 ? '+' : ''}${formatNum(x, 3)}`;
}

/** "interval 42% narrower than unadjusted" (or wider), from the two relative intervals' widths. */
export function narrowing(unadjusted: Interval, adjusted: Interval): string {
  if (!unadjusted || !adjusted) return '—';
  const before = unadjusted[1] - unadjusted[0];
  const after = adjusted[1] - adjusted[0];
  if (!(before > 0) || !Number.isFinite(after)) return '—';
  const change = 1 - after / before;
  if (Math.abs(change) < 0.005) return 'interval as wide as unadjusted';
  return `interval ${formatPct(Math.abs(change), 0, false)} ${change > 0 ? 'narrower' : 'wider'} than unadjusted`;
}
