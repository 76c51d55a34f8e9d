import type { ExperimentTimeseriesDto } from '@strata/contracts';
import { Area, Bar, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatPct } from '../../lib/format';
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

/** The lift's confidence sequence over time: the band narrows as data arrives. */
export function LiftTimeline({ ts, metric, name }: { ts: ExperimentTimeseriesDto; metric: string; name: string }) {
  const { rows, variants } = timelineRows(ts, metric);
  if (rows.length === 0 || variants.length === 0) return <p className="muted small">No daily data yet for {name}.</p>;
  // A band needs a few days to show; until then each day's interval is drawn as a range bar.
  const few = rows.length < 3;
  return (
    <div className="chart-box" role="img" aria-label={`Lift of ${name} over time with its confidence band`} data-testid="lift-timeline">
      <ResponsiveContainer width="100%" height={240}>
        <ComposedChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="date" minTickGap={24} />
          <YAxis tickFormatter={(v: number) => formatPct(v, 0)} width={56} />
          <Tooltip
            formatter={(value, key) =>
              Array.isArray(value)
                ? [`${formatPct(Number(value[0]))} to ${formatPct(Number(value[1]))}`, String(key)]
                : [formatPct(Number(value)), String(key)]
            }
          />
          <Legend />
          <ReferenceLine y={0} stroke="#111827" />
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
  );
}
