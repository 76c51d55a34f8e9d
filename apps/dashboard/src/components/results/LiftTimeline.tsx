import type { ExperimentTimeseriesDto } from '@strata/contracts';
import { useState } from 'react';
import {
  Area,
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { dailyFromCumulative, liftDomain } from '../../lib/chart-scale';
import { formatInt, formatPct } from '../../lib/format';
import { colorFor } from '../BucketBar';

/** Rows for one metric: per day, per treatment variant, the lift and its always-valid band. */
export function timelineRows(ts: ExperimentTimeseriesDto, metric: string): { rows: Record<string, unknown>[]; variants: string[] } {
  const variants = new Set<string>();
  const rows = ts.points.map((p) => {
    const row: Record<string, unknown> = { date: p.date };
    for (const [variant, v] of Object.entries(p.lift[metric] ?? {})) {
      variants.add(variant);
      row[`${variant}__est`] = v.estimate;
      row[`${variant}__band`] = v.ci;
    }
    return row;
  });
  return { rows, variants: [...variants] };
}

/** Legend labels in the text colour (the swatch keeps the series colour): coloured text fell below 4.5:1. */
const legendText = (value: unknown) => <span style={{ color: 'var(--text)' }}>{String(value)}</span>;

const RANGES = [
  { value: 'all', label: 'All days' },
  { value: '30', label: 'Last 30 days' },
  { value: '14', label: 'Last 14 days' },
  { value: '7', label: 'Last 7 days' },
] as const;
type RangeValue = (typeof RANGES)[number]['value'];

/**
 * The lift's confidence sequence over time (cumulative: each day includes every earlier one), or
 * the units that arrived each day. The y-axis fits the latest days by default — day one's interval
 * is many times wider and would squash today's into a thin band.
 */
export function LiftTimeline({ ts, metric, name }: { ts: ExperimentTimeseriesDto; metric: string; name: string }) {
  const [view, setView] = useState<'cumulative' | 'daily'>('cumulative');
  const [fit, setFit] = useState<'latest' | 'all'>('latest');
  const [range, setRange] = useState<RangeValue>('all');
  const all = timelineRows(ts, metric);
  if (all.rows.length === 0 || all.variants.length === 0) return <p className="muted small">No daily data yet for {name}.</p>;
  const rows = range === 'all' ? all.rows : all.rows.slice(-Number(range));
  const points = range === 'all' ? ts.points : ts.points.slice(-Number(range));
  const variants = all.variants;
  const id = `lift-${metric}`;
  const controls = (
    <div className="toolbar chart-controls">
      <div className="switch" role="group" aria-label={`What to plot for ${name}`}>
        <button type="button" className="btn" aria-pressed={view === 'cumulative'} onClick={() => setView('cumulative')}>
          Cumulative lift
        </button>
        <button type="button" className="btn" aria-pressed={view === 'daily'} onClick={() => setView('daily')}>
          Units per day
        </button>
      </div>
      {view === 'cumulative' && (
        <label className="checkbox">
          <input type="checkbox" checked={fit === 'latest'} onChange={(e) => setFit(e.target.checked ? 'latest' : 'all')} />
          Fit y-axis to the latest days
        </label>
      )}
      <div className="field field-inline">
        <label htmlFor={`${id}-range`}>Date range</label>
        <select id={`${id}-range`} value={range} onChange={(e) => setRange(e.target.value as RangeValue)}>
          {RANGES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
  if (view === 'daily') {
    const arms = [ts.control, ...variants.filter((v) => v !== ts.control)];
    const perArm = Object.fromEntries(arms.map((a) => [a, dailyFromCumulative(ts.points.map((p) => p.unitsByVariant[a] ?? 0))]));
    const offset = ts.points.length - points.length;
    const data = points.map((p, i) => ({ date: p.date, ...Object.fromEntries(arms.map((a) => [a, perArm[a]?.[offset + i] ?? 0])) }));
    return (
      <>
        {controls}
        <div className="chart-box" role="img" aria-label={`New units per day and variant for ${name}`} data-testid="units-per-day">
          <ResponsiveContainer width="100%" height={240}>
            <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="date" minTickGap={24} />
              <YAxis tickFormatter={(v: number) => formatInt(v)} width={64} />
              <Tooltip separator=": " formatter={(value, key) => [formatInt(Number(value)), String(key)]} />
              <Legend formatter={legendText} />
              {arms.map((a, i) => (
                <Bar key={a} dataKey={a} name={a} fill={colorFor(i)} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      </>
    );
  }
  // A band needs a few days to show; until then each day's interval is drawn as a range bar.
  const few = rows.length < 3;
  const bands = rows.flatMap((r) => variants.map((v) => r[`${v}__band`] as [number, number] | null | undefined));
  const y = liftDomain(bands, fit, 3 * variants.length);
  return (
    <>
      {controls}
      <div
        className="chart-box"
        role="img"
        aria-label={`Cumulative lift of ${name} over time with its confidence band`}
        data-testid="lift-timeline"
      >
        <ResponsiveContainer width="100%" height={240}>
          <ComposedChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="date" minTickGap={24} />
            <YAxis tickFormatter={(v: number) => formatPct(v, 1)} width={64} domain={y.domain} ticks={y.ticks} allowDataOverflow />
            <Tooltip
              separator=": "
              formatter={(value, key) =>
                Array.isArray(value)
                  ? [`${formatPct(Number(value[0]))} to ${formatPct(Number(value[1]))}`, String(key)]
                  : [formatPct(Number(value)), String(key)]
              }
            />
            <Legend formatter={legendText} />
            <ReferenceLine
              y={0}
              stroke="#111827"
              label={{ value: 'no change', position: 'insideTopLeft', fontSize: 11, fill: '#374151' }}
            />
            {few &&
              variants.map((v, i) => (
                <Bar
                  key={`${v}-bar`}
                  dataKey={`${v}__band`}
                  name={`${v} interval`}
                  fill={colorFor(i + 1)}
                  fillOpacity={0.25}
                  barSize={28}
                  isAnimationActive={false}
                />
              ))}
            {!few &&
              variants.map((v, i) => (
                <Area
                  key={`${v}-band`}
                  type="monotone"
                  dataKey={`${v}__band`}
                  name={`${v} interval`}
                  stroke="none"
                  fill={colorFor(i + 1)}
                  fillOpacity={0.18}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            {variants.map((v, i) => (
              <Line
                key={`${v}-est`}
                type="monotone"
                dataKey={`${v}__est`}
                name={`${v} lift`}
                stroke={colorFor(i + 1)}
                strokeWidth={2}
                dot={few}
                isAnimationActive={false}
                connectNulls
              />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      {fit === 'latest' && <p className="muted small">The y-axis fits the latest days; earlier, wider intervals run off the chart.</p>}
    </>
  );
}
