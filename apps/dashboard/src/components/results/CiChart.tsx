import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { niceTicks } from '../../lib/chart-scale';
import { formatPct } from '../../lib/format';
import type { VerdictTone } from '../../lib/verdict';

export interface CiRow {
  variant: string;
  /** Shown on the axis (the variant's name); `variant` (the key) when absent. */
  label?: string;
  estimate: number;
  ci: [number, number];
  tone: VerdictTone;
}

const TONE_COLOR: Record<VerdictTone, string> = { win: '#15803d', loss: '#c0262d', neutral: '#94a3b8', unknown: '#cbd5e1' };

/** Each treatment's confidence interval for the relative lift, as a bar against zero. */
export function CiChart({ rows, label }: { rows: CiRow[]; label: string }) {
  if (rows.length === 0) return null;
  const data = rows.map((r) => ({ variant: r.label ?? r.variant, range: r.ci, estimate: r.estimate, tone: r.tone }));
  const { ticks, domain } = niceTicks(Math.min(...rows.map((r) => r.ci[0])), Math.max(...rows.map((r) => r.ci[1])));
  // Wide enough for the longest name (about 7 px per character at the axis font size), within reason.
  const labelWidth = Math.min(220, Math.max(64, 16 + 7 * Math.max(...data.map((d) => d.variant.length))));
  return (
    <div className="chart-box" role="img" aria-label={label} data-testid="ci-chart">
      <ResponsiveContainer width="100%" height={56 + rows.length * 40}>
        <BarChart data={data} layout="vertical" margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
          <CartesianGrid horizontal={false} strokeDasharray="3 3" />
          <XAxis type="number" domain={domain} ticks={ticks} tickFormatter={(v: number) => (v === 0 ? '0%' : formatPct(v, 1))} />
          <YAxis type="category" dataKey="variant" width={labelWidth} />
          <Tooltip
            separator=": "
            formatter={(value, name) => [
              Array.isArray(value) ? `${formatPct(Number(value[0]))} to ${formatPct(Number(value[1]))}` : String(value),
              String(name),
            ]}
            labelFormatter={(l) => `Lift of ${String(l)} vs control`}
          />
          <ReferenceLine x={0} stroke="#111827" strokeWidth={1.5} />
          <Bar dataKey="range" name="Interval" barSize={16} radius={3} isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.variant} fill={TONE_COLOR[d.tone]} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
