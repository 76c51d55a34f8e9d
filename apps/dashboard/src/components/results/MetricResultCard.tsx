import type { MetricResultDto } from '@strata/contracts';
import { formatCi, formatInt, formatNum, formatP, formatPct } from '../../lib/format';
import { pickInference, verdictFor, type InferenceMode } from '../../lib/verdict';
import { DataTable, type Column } from '../DataTable';
import { Badge } from '../StatusBadge';
import { CiChart, type CiRow } from './CiChart';

/** One metric: a row per variant (n, mean, lift, interval, verdict) and the intervals drawn against zero. */
export function MetricResultCard({
  metric,
  mode,
  cuped,
  variantNames = {},
}: {
  metric: MetricResultDto;
  mode: InferenceMode;
  cuped: boolean;
  /** Variant key → name, for the chart's axis. */
  variantNames?: Record<string, string>;
}) {
  const chartRows: CiRow[] = [];
  const rows = metric.variants.map((row) => {
    const inf = pickInference(row, mode, cuped);
    const verdict = verdictFor(metric, row, inf);
    if (!row.isControl && inf?.ci && !inf.reason)
      chartRows.push({
        variant: row.variant,
        label: variantNames[row.variant] ?? row.variant,
        estimate: inf.estimate,
        ci: inf.ci,
        tone: verdict.tone,
      });
    return { row, inf, verdict };
  });
  const usedCuped = cuped && metric.variants.some((v) => v.cuped);
  const columns: Column<(typeof rows)[number]>[] = [
    {
      header: 'Variant',
      cell: ({ row }) => (
        <>
          <span className="strong">{row.variant}</span> {row.isControl && <Badge tone="muted">control</Badge>}
        </>
      ),
    },
    { header: 'Units (n)', numeric: true, cell: ({ row }) => formatInt(row.units) },
    {
      header: 'Mean',
      numeric: true,
      cell: ({ row }) => (metric.type === 'conversion' ? formatPct(row.mean, 2, false) : formatNum(row.mean, 4)),
    },
    { header: 'Lift', numeric: true, cell: ({ row, inf }) => (row.isControl ? '—' : formatPct(inf?.estimate)) },
    { header: 'Interval', cell: ({ row, inf }) => (row.isControl ? '—' : formatCi(inf?.ci ?? null)) },
    {
      header: 'p-value',
      numeric: true,
      cell: ({ row, inf }) =>
        row.isControl ? '—' : formatP(mode === 'sequential' && !usedCuped ? (row.adjustedPValue ?? inf?.pValue) : inf?.pValue),
    },
    { header: 'Verdict', className: ({ verdict }) => `verdict verdict-${verdict.tone}`, cell: ({ verdict }) => verdict.text },
  ];
  return (
    <div className="card metric-card" data-testid={`metric-${metric.metric}`}>
      <div className="card-head">
        <h3>
          {metric.name} <Badge tone="info">{metric.role}</Badge>{' '}
          <span className="muted small">
            {metric.type}, higher is {metric.direction === 'increase' ? 'better' : 'worse'}
          </span>
        </h3>
        <span className="muted small">
          {mode === 'sequential' ? 'Always-valid (sequential) intervals' : 'Fixed-horizon intervals'}
          {usedCuped ? ', CUPED-adjusted' : cuped ? ' (no CUPED covariate for this metric)' : ''}
        </span>
      </div>
      <DataTable columns={columns} rows={rows} rowKey={(r) => r.row.variant} />
      <CiChart rows={chartRows} label={`Confidence intervals of the lift of ${metric.name} against zero`} />
    </div>
  );
}
