import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatPct } from '../../lib/format';
import type { VerdictTone } from '../../lib/verdict';

export interface CiRow {
  variant: string;
  estimate: number;
  ci: [number, number];
  tone: VerdictTone;
}

const TONE_COLOR: Record<VerdictTone, string> = { win: '#15803d', loss: '#c0262d', neutral: '#94a3b8', unknown: '#cbd5e1' };

/** Each treatment's confidence interval for the relative lift, as a bar against zero. */
export function CiChart({ rows, label }: { rows: CiRow[]; label: string }) {
  if (rows.length === 0) return null;
  const data = rows.map((r) => ({ variant: r.variant, range: r.ci, estimate: r.estimate, tone: r.tone }));
  const lo = Math.min(0, ...rows.map((r) => r.ci[0]));
  const hi = Math.max(0, ...rows.map((r) => r.ci[1]));
  const pad = (hi - lo) * 0.1 || 0.01;
  return (
    <div className="chart-box" role="img" aria-label={label} data-testid="ci-chart">
      <ResponsiveContainer width="100%" height={48 + rows.length * 40}>
        <BarChart data={data} layout="vertical" margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
          <CartesianGrid horizontal={false} strokeDasharray="3 3" />
          <XAxis type="number" domain={[lo - pad, hi + pad]} tickFormatter={(v: number) => formatPct(v, 0)} />
          <YAxis type="category" dataKey="variant" width={96} />
          <Tooltip
            formatter={(value) =>
              Array.isArray(value) ? `${formatPct(Number(value[0]))} to ${formatPct(Number(value[1]))}` : String(value)
            }
            labelFormatter={(l) => `Lift of ${String(l)} vs control`}
          />
          <ReferenceLine x={0} stroke="#111827" strokeWidth={1.5} />
          <Bar dataKey="range" name="Confidence interval" barSize={16} radius={3} isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.variant} fill={TONE_COLOR[d.tone]} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
