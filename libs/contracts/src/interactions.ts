import { z } from 'zod';
import { keySchema } from './config';

/**
 * Interaction checks across layers: for every pair of running experiments in different layers
 * that share enough units, whether one's treatment effect on its primary metric differs between
 * the other's arms (docs/analysis.md, "Interaction checks across layers").
 */
export interface InteractionDto {
  /** The experiment whose primary-metric effect is tested. */
  subject: string;
  /** The experiment whose arms may modify it. */
  other: string;
  /** The subject's primary metric. */
  metric: string;
  /** Shared units in the analysed sample. */
  units: number;
  /** `interaction-z` (2 × 2 arms, difference of differences) or `interaction-wald` (χ² over every contrast). */
  method: string | null;
  df: number | null;
  statistic: number | null;
  /** Difference of differences of the subject's effect (the contrast with the largest |z| when there are more arms). */
  estimate: number | null;
  se: number | null;
  pValue: number | null;
  /** Adjusted over every test of the refresh (`correction`). */
  adjustedPValue: number | null;
  flagged: boolean;
  correction: 'bh' | 'by';
  fdr: number;
  /** Each contrast: subject's arm, other's arm, estimate and standard error. */
  contrasts: { armA: string; armB: string; estimate: number; se: number }[];
  /** Why the test is undefined (empty or constant cells), else null. */
  reason: string | null;
  /** Share of units analysed (1 unless the refresh's row budget sampled them by hash). */
  sampleFraction: number;
  computedAt: string;
}

/** Answer of `POST /v1/analysis/interactions/refresh`, and the state of the last refresh. */
export interface InteractionRefreshDto {
  /** False when nothing changed since the last refresh (nothing was written). */
  worked: boolean;
  /** Running experiments with a primary metric and statistics. */
  experiments: number;
  /** Pairs in different layers (before the minimum of shared units). */
  candidatePairs: number;
  /** Pairs sharing at least the minimum of units (each tested twice: once per experiment's metric). */
  pairs: number;
  tests: number;
  flagged: number;
  /** Upper bound of joined (unit, pair) rows without sampling: Σ over candidate pairs of min(n_A, n_B). */
  rowsBound: number;
  sampleFraction: number;
  correction: 'bh' | 'by';
  fdr: number;
  minUnits: number;
  computedAt: string | null;
  ms: number;
}

/** Query of `GET /v1/analysis/interactions`. */
export const interactionsQuerySchema = z
  .object({
    experiment: keySchema.optional(),
    flagged: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
export type InteractionsQuery = z.infer<typeof interactionsQuerySchema>;

/** Body of `POST /v1/analysis/interactions/refresh`: nothing to choose (every pair is refreshed). */
export const interactionRefreshSchema = z.object({}).strict();
