import type { InferenceDto, MetricResultDto, VariantComparisonDto } from '@strata/contracts';
import { formatCi, formatPct } from './format';

export type InferenceMode = 'sequential' | 'fixed';
export type VerdictTone = 'win' | 'loss' | 'neutral' | 'unknown';

export interface Verdict {
  tone: VerdictTone;
  text: string;
}

/**
 * The relative-lift inference shown for a row: sequential (always valid, safe to peek) or
 * fixed-horizon, optionally CUPED-adjusted when the metric has a covariate.
 */
export function pickInference(row: VariantComparisonDto, mode: InferenceMode, cuped: boolean): InferenceDto | null {
  if (cuped && row.cuped) return row.cuped.relative;
  if (!row.relative) return null;
  return mode === 'sequential' ? row.relative.sequential : row.relative.fixed;
}

/** One sentence a product manager can act on, oriented by the metric's good direction. */
export function verdictFor(
  metric: Pick<MetricResultDto, 'name' | 'direction'>,
  row: VariantComparisonDto,
  inference: InferenceDto | null,
): Verdict {
  if (row.isControl) return { tone: 'neutral', text: 'Control: the baseline the other variants are compared with.' };
  if (!inference || inference.reason || !inference.ci) {
    const why = inference?.reason ? ` (${inference.reason})` : '';
    return { tone: 'unknown', text: `Not enough data yet to compare ${row.variant} with control${why}.` };
  }
  const ci = formatCi(inference.ci);
  const lift = formatPct(inference.estimate);
  if (!inference.significant) {
    return {
      tone: 'neutral',
      text: `No detectable difference yet: ${row.variant} changes ${metric.name} by ${lift}, but the interval (${ci}) still includes zero.`,
    };
  }
  const up = inference.estimate > 0;
  const good = metric.direction === 'increase' ? up : !up;
  const verb = up ? 'increases' : 'decreases';
  return good
    ? { tone: 'win', text: `${row.variant} ${verb} ${metric.name} by ${lift} (${ci}); this is a significant improvement.` }
    : { tone: 'loss', text: `${row.variant} ${verb} ${metric.name} by ${lift} (${ci}); this is a significant harm.` };
}
