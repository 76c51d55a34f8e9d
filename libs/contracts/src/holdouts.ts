import { z } from 'zod';
import { keySchema, saltSchema } from './config';
import { resultsQuerySchema, type MetricResultDto, type ResultsQuery, type SrmDto } from './results';
import { storable } from './text';

/**
 * Holdouts: a share of units (by the holdout's own salt) kept out of every experiment of some
 * layers (or all), for months, so that the cumulative impact of everything shipped there can be
 * measured against units that saw none of it.
 */

/** At most this many holdouts exist at once: each is one hash per covered layer on the assign hot path. */
export const MAX_HOLDOUTS = 20;

/** Exposure events and the analysis engine name a holdout `holdout:<key>` (":" is in no experiment key). */
export const HOLDOUT_EXPOSURE_PREFIX = 'holdout:';
/** The two arms of a holdout's comparison: the held-out units (the baseline) and everyone else. */
export const HOLDOUT_ARM = 'holdout';
export const REST_ARM = 'rest';

export function holdoutExposureKey(key: string): string {
  return HOLDOUT_EXPOSURE_PREFIX + key;
}

/** `holdout:<key>`, as exposure events carry it. */
export const holdoutExposureKeySchema = z
  .string()
  .max(HOLDOUT_EXPOSURE_PREFIX.length + 64)
  .regex(/^holdout:[a-z0-9][a-z0-9_-]*$/, 'must be "holdout:" and a holdout key');

/** A share in basis points' precision: 0.0001 … 0.5 (a holdout bigger than half would be the experiment). */
export const holdoutShareSchema = z
  .number()
  .gt(0)
  .max(0.5)
  .refine((v) => Math.abs(v * 10_000 - Math.round(v * 10_000)) < 1e-9, 'must be a multiple of 0.0001');

const holdoutFields = {
  name: storable(z.string().trim().min(1).max(200)),
  description: storable(z.string().max(5000)).optional(),
  /** Covered layers; null (or absent at creation) = every layer, including layers created later. */
  layers: z.array(keySchema).min(1).max(100).nullable().optional(),
  /** The metrics compared; the first is the primary one. */
  metrics: z.array(keySchema).min(1).max(20),
};

export const createHoldoutSchema = z
  .object({ key: keySchema, ...holdoutFields, share: holdoutShareSchema, salt: saltSchema.optional() })
  .strict()
  .refine((h) => new Set(h.metrics).size === h.metrics.length, { path: ['metrics'], message: 'metrics must be distinct' });

/** Share and salt are accepted only to say clearly that they cannot change (`holdout_locked`). */
export const updateHoldoutSchema = z
  .object({
    name: holdoutFields.name.optional(),
    description: holdoutFields.description,
    layers: holdoutFields.layers,
    metrics: holdoutFields.metrics.optional(),
    share: holdoutShareSchema.optional(),
    salt: saltSchema.optional(),
  })
  .strict()
  .refine((h) => h.metrics === undefined || new Set(h.metrics).size === h.metrics.length, { path: ['metrics'], message: 'metrics must be distinct' });

/** The holdout comparison has no segments (yet): only the correction and alpha apply. */
export const holdoutResultsQuerySchema = resultsQuerySchema.pick({ correction: true, alpha: true }).strict();

export type CreateHoldoutRequest = z.infer<typeof createHoldoutSchema>;
export type UpdateHoldoutRequest = z.infer<typeof updateHoldoutSchema>;

export interface HoldoutDto {
  key: string;
  name: string;
  description: string;
  salt: string;
  share: number;
  /** null = every layer. */
  layers: string[] | null;
  metrics: string[];
  createdAt: string;
  updatedAt: string;
}

/** A holdout as the configuration snapshot carries it. */
export interface SnapshotHoldout {
  key: string;
  salt: string;
  /** A unit is held out when MurmurHash3(`${salt}:${unitId}`) / 2^32 < share. */
  share: number;
  /** null = every layer. */
  layers: string[] | null;
}

/**
 * `GET /v1/holdouts/:key/results`: everyone else (`rest`, exposed in the covered layers and not
 * held out) against the holdout (the baseline) on the holdout's metrics, with the experiments'
 * sequential statistics: the cumulative impact of everything running or shipped in those layers.
 */
export interface HoldoutResultsDto {
  holdout: string;
  share: number;
  layers: string[] | null;
  computedAt: string;
  dataThrough: string | null;
  alpha: number;
  correction: ResultsQuery['correction'];
  units: { holdout: number; rest: number };
  /** Per metric: the `rest` variant against the `holdout` control. */
  metrics: MetricResultDto[];
  /** Whether the observed split matches the configured share. */
  srm: SrmDto | null;
}
