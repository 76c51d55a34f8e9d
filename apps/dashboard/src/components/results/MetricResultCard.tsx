import type { MetricResultDto } from '@strata/contracts';
import { formatCi, formatInt, formatNum, formatP, formatPct } from '../../lib/format';
import { pickInference, verdictFor, type InferenceMode } from '../../lib/verdict';
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
      chartRows.push({ variant: row.variant, label: variantNames[row.variant] ?? row.variant, estimate: inf.estimate, ci: inf.ci, tone: verdict.tone });
    return { row, inf, verdict };
  });
  const usedCuped = cuped && metric.variants.some((v) => v.cuped);
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
      <div className="table-wrap">
        <table className="table table-stack">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col" className="num">
                Units (n)
              </th>
              <th scope="col" className="num">
                Mean
              </th>
              <th scope="col" className="num">
                Lift
              </th>
              <th scope="col">Interval</th>
              <th scope="col" className="num">
                p-value
              </th>
              <th scope="col">Verdict</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ row, inf, verdict }) => (
              <tr key={row.variant}>
                <td data-label="Variant">
                  <span className="strong">{row.variant}</span> {row.isControl && <Badge tone="muted">control</Badge>}
                </td>
                <td data-label="Units (n)" className="num">
                  {formatInt(row.units)}
                </td>
                <td data-label="Mean" className="num">
                  {metric.type === 'conversion' ? formatPct(row.mean, 2, false) : formatNum(row.mean, 4)}
                </td>
                <td data-label="Lift" className="num">
                  {row.isControl ? '—' : formatPct(inf?.estimate)}
                </td>
                <td data-label="Interval">{row.isControl ? '—' : formatCi(inf?.ci ?? null)}</td>
                <td data-label="p-value" className="num">
                  {row.isControl ? '—' : formatP(mode === 'sequential' && !usedCuped ? (row.adjustedPValue ?? inf?.pValue) : inf?.pValue)}
                </td>
                <td data-label="Verdict" className={`verdict verdict-${verdict.tone}`}>
                  {verdict.text}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CiChart rows={chartRows} label={`Confidence intervals of the lift of ${metric.name} against zero`} />
    </div>
  );
}
