import { z } from 'zod';
import { keySchema } from './config';
import type { Assignment } from './snapshot';
import { attributesSchema } from './targeting';
import { isStorableText } from './text';
import type { VariantValue } from './values';

/** Largest number of units one `POST /v1/assign/batch` may carry. */
export const MAX_BATCH_UNITS = 1000;
/** Largest number of experiment keys one assignment request may name. */
export const MAX_ASSIGN_EXPERIMENTS = 100;

/**
 * Any string but one with NUL (it could not be stored with an exposure). Unpaired surrogates stay
 * valid: the bucketing spec hashes them as U+FFFD, and the published vectors include such ids.
 */
export const unitIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL');
const experimentKeysSchema = z.array(keySchema).max(MAX_ASSIGN_EXPERIMENTS);
/**
 * Such an id can be assigned but its exposure could not be stored as sent (text would turn each
 * unpaired surrogate into U+FFFD, merging distinct units), and the collector refuses its events.
 */
const UNLOGGABLE_UNIT = 'contains an unpaired surrogate: it can be assigned, but its exposures cannot be logged (send logExposures: false)';

/** `POST /v1/assign`: every assignment of one unit (or only those of `experiments`). */
export const assignRequestSchema = z
  .object({
    unitId: unitIdSchema,
    attributes: attributesSchema.optional(),
    experiments: experimentKeysSchema.optional(),
    /** Record an exposure for each `bucketed` assignment (forced and shipped ones never log). */
    logExposures: z.boolean().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.logExposures === true && !isStorableText(r.unitId)) ctx.addIssue({ code: 'custom', path: ['unitId'], message: UNLOGGABLE_UNIT });
  });
export type AssignRequest = z.input<typeof assignRequestSchema>;

export const batchUnitSchema = z.object({ unitId: unitIdSchema, attributes: attributesSchema.optional() }).strict();

/** `POST /v1/assign/batch`: the same for up to MAX_BATCH_UNITS units. */
export const batchAssignRequestSchema = z
  .object({
    units: z.array(batchUnitSchema).min(1).max(MAX_BATCH_UNITS),
    experiments: experimentKeysSchema.optional(),
    logExposures: z.boolean().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.logExposures !== true) return;
    r.units.forEach((u, i) => {
      if (!isStorableText(u.unitId)) ctx.addIssue({ code: 'custom', path: ['units', i, 'unitId'], message: UNLOGGABLE_UNIT });
    });
  });
export type BatchAssignRequest = z.input<typeof batchAssignRequestSchema>;

/** `GET /v1/explain`: `attributes` is URL-encoded JSON (an object of attribute values). */
export const explainQuerySchema = z
  .object({
    unitId: unitIdSchema,
    experiment: keySchema,
    attributes: z
      .string()
      .max(20_000)
      .optional()
      .transform((text, ctx): unknown => {
        if (text === undefined || text === '') return {};
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be URL-encoded JSON, e.g. {"country":"DE"}' });
          return z.NEVER;
        }
      })
      .pipe(attributesSchema),
  })
  .strict();
export type ExplainQuery = z.input<typeof explainQuerySchema>;

export interface AssignResponse {
  assignments: Assignment[];
  /**
   * Experiments with values that were evaluated (all of the snapshot's, or those of `experiments`)
   * and gave the unit no assignment → their default value. Absent when there is none.
   */
  defaults?: Record<string, VariantValue>;
}

export interface BatchAssignResult {
  unitId: string;
  assignments: Assignment[];
  defaults?: Record<string, VariantValue>;
}

export interface BatchAssignResponse {
  results: BatchAssignResult[];
}
