import { z } from 'zod';
import { METRIC_TYPES } from './config';

/**
 * GET /v1/metrics/:key/baseline — a metric's observed baseline, for the power calculator: the
 * control arm of the most recent experiment that measured the metric, read from the analysis
 * engine's stored per-variant sums. No data yet is an answer (`observed: null` with a reason),
 * not an error.
 */
export const METRIC_BASELINE_BASIS = 'control-of-most-recent-experiment';

export const observedBaselineSchema = z.discriminatedUnion('kind', [
  /** Conversion metrics: the share of units that converted. */
  z.object({ kind: z.literal('rate'), rate: z.number(), n: z.number().int() }),
  /** Count, mean and ratio metrics: per-unit mean and standard deviation (ratio: delta-method, per unit). */
  z.object({ kind: z.literal('mean'), mean: z.number(), sd: z.number(), n: z.number().int() }),
]);
export type ObservedBaselineDto = z.infer<typeof observedBaselineSchema>;

export const metricBaselineSchema = z.object({
  metric: z.string(),
  type: z.enum(METRIC_TYPES),
  observed: observedBaselineSchema.nullable(),
  /** Where the numbers come from; null when there are none. */
  source: z.object({ basis: z.literal(METRIC_BASELINE_BASIS), experiments: z.array(z.string()), variant: z.string() }).nullable(),
  /** Why there is no baseline (null when there is one). */
  reason: z.string().nullable(),
});
export type MetricBaselineDto = z.infer<typeof metricBaselineSchema>;
