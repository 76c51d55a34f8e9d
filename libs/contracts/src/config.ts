import { z } from 'zod';
import { boundedTargetingSchema, type TargetingRule } from './targeting';
import { storable } from './text';
import type { AuditActorDto } from './users';
import { checkValues, VALUE_TYPES, variantValueSchema, type ValueType, type VariantValue } from './values';

/** Every layer has this many buckets; experiments reserve disjoint ranges of them. */
export const BUCKETS_PER_LAYER = 10_000;

/** URL-safe keys: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export const keySchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "-" or "_" (url-safe), starting with a letter or digit');

export const saltSchema = storable(z.string().min(1).max(128));
const nameSchema = storable(z.string().trim().min(1).max(200));
const descriptionSchema = storable(z.string().max(5000));

// ---------- API keys ----------
/** `ci`: deployment pipelines — may only read an experiment's state and advance, pause, resume or revert its rollout. */
export const API_KEY_TYPES = ['admin', 'sdk-server', 'sdk-client', 'ci'] as const;
export type ApiKeyType = (typeof API_KEY_TYPES)[number];

export const createApiKeySchema = z.object({ name: nameSchema, type: z.enum(API_KEY_TYPES) }).strict();
export type CreateApiKeyRequest = z.infer<typeof createApiKeySchema>;

export interface ApiKeyDto {
  id: string;
  name: string;
  type: ApiKeyType;
  /** First characters of the secret, so a person can tell keys apart. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}
export interface CreatedApiKeyDto extends ApiKeyDto {
  /** Shown once, at creation; only a hash is stored. */
  secret: string;
}

// ---------- Layers ----------
export const createLayerSchema = z
  .object({ key: keySchema, name: nameSchema, description: descriptionSchema.optional(), salt: saltSchema.optional() })
  .strict();
export const updateLayerSchema = z.object({ name: nameSchema.optional(), description: descriptionSchema.optional() }).strict();
export type CreateLayerRequest = z.infer<typeof createLayerSchema>;
export type UpdateLayerRequest = z.infer<typeof updateLayerSchema>;

export interface BucketRange {
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export interface LayerAllocationDto {
  experiment: string;
  status: ExperimentStatus;
  ranges: BucketRange[];
  buckets: number;
}

export interface LayerDto {
  key: string;
  name: string;
  description: string;
  salt: string;
  buckets: number;
  freeBuckets: number;
  allocations: LayerAllocationDto[];
  createdAt: string;
  updatedAt: string;
}

export interface BucketLedgerEntryDto {
  id: string;
  layer: string;
  experiment: string;
  start: number;
  end: number;
  reservedAt: string;
  releasedAt: string | null;
}

// ---------- Metrics ----------
export const METRIC_TYPES = ['conversion', 'count', 'mean', 'ratio'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];
export const METRIC_DIRECTIONS = ['increase', 'decrease'] as const;
export type MetricDirection = (typeof METRIC_DIRECTIONS)[number];

const eventNameSchema = storable(z.string().min(1).max(200));

const metricFields = {
  name: nameSchema,
  description: descriptionSchema.optional(),
  type: z.enum(METRIC_TYPES),
  /** Event counted (numerator for ratio metrics). */
  eventName: eventNameSchema,
  /** Denominator event, ratio metrics only. */
  denominatorEventName: eventNameSchema.nullable().optional(),
  direction: z.enum(METRIC_DIRECTIONS).default('increase'),
  /** Cap per-unit values at this percentile (e.g. 0.99); null for none. */
  winsorizePercentile: z.number().gt(0.5).lt(1).nullable().optional(),
  /** Relative change in the harmful direction that counts as harm when used as a guardrail (e.g. 0.02 = 2%). */
  harmThreshold: z.number().gt(0).max(10).nullable().optional(),
  /** Count events only this many hours after a unit's first exposure; null = until the experiment stops. */
  attributionWindowHours: z.number().int().min(1).max(24 * 365).nullable().optional(),
  /** Days before first exposure used as the CUPED covariate; 0 disables CUPED. */
  cupedLookbackDays: z.number().int().min(0).max(90).default(14),
};

function checkRatio(m: { type?: MetricType; denominatorEventName?: string | null }, ctx: z.RefinementCtx): void {
  if (m.type === 'ratio' && !m.denominatorEventName) {
    ctx.addIssue({ code: 'custom', path: ['denominatorEventName'], message: 'ratio metrics need a denominator event' });
  }
  if (m.type !== undefined && m.type !== 'ratio' && m.denominatorEventName) {
    ctx.addIssue({ code: 'custom', path: ['denominatorEventName'], message: 'only ratio metrics have a denominator event' });
  }
}

export const createMetricSchema = z
  .object({ key: keySchema, ...metricFields })
  .strict()
  .superRefine(checkRatio);
export const updateMetricSchema = z
  .object({
    name: metricFields.name.optional(),
    description: metricFields.description,
    direction: z.enum(METRIC_DIRECTIONS).optional(),
    winsorizePercentile: metricFields.winsorizePercentile,
    harmThreshold: metricFields.harmThreshold,
    attributionWindowHours: metricFields.attributionWindowHours,
    cupedLookbackDays: z.number().int().min(0).max(90).optional(),
  })
  .strict();
export type CreateMetricRequest = z.input<typeof createMetricSchema>;
export type UpdateMetricRequest = z.input<typeof updateMetricSchema>;

export interface MetricDto {
  key: string;
  name: string;
  description: string;
  type: MetricType;
  eventName: string;
  denominatorEventName: string | null;
  direction: MetricDirection;
  winsorizePercentile: number | null;
  harmThreshold: number | null;
  attributionWindowHours: number | null;
  cupedLookbackDays: number;
  /** When it was archived (hidden from pickers and the default list, still readable and measured); null if active. */
  archivedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Which metrics GET /v1/metrics lists: active ones (the default), archived ones too, or only archived ones. */
export const METRIC_ARCHIVED_FILTERS = ['exclude', 'include', 'only'] as const;
export type MetricArchivedFilter = (typeof METRIC_ARCHIVED_FILTERS)[number];

export const METRIC_USAGE_ROLES = ['primary', 'secondary', 'guardrail'] as const;
export type MetricUsageRole = (typeof METRIC_USAGE_ROLES)[number];

/** GET /v1/metrics/:key/usage: the experiments measuring the metric, one row per role. */
export interface MetricUsageDto {
  metric: string;
  usedBy: { key: string; name: string; status: ExperimentStatus; role: MetricUsageRole }[];
}

/** Most event names one suggestion query returns. */
export const EVENT_NAME_SUGGESTIONS_MAX = 50;
/** Days back the event-name suggestions look (partitions of the events table read). */
export const EVENT_NAME_SUGGESTIONS_DAYS = 7;
export const eventNameSuggestionsQuerySchema = z
  .object({
    prefix: z.string().max(100).default(''),
    limit: z.coerce.number().int().min(1).max(EVENT_NAME_SUGGESTIONS_MAX).default(20),
  })
  .strict();
/** GET /v1/metrics/event-names: metric-event names received since `since`, most frequent first. */
export interface EventNameSuggestionsDto {
  since: string;
  items: { name: string; count: number }[];
}

// ---------- Experiments ----------
/**
 * draft → running → stopped, or running → shipped; shipped (or stopped) → concluded once the
 * experiment's code is removed from the app: it then leaves assign replies and the SDK config,
 * its results and audit stay readable.
 */
export const EXPERIMENT_STATUSES = ['draft', 'running', 'stopped', 'shipped', 'concluded'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

export const WEIGHT_TOLERANCE = 1e-9;

export const variantSchema = z
  .object({ key: keySchema, name: nameSchema.optional(), weight: z.number().gt(0).max(1), value: variantValueSchema.optional() })
  .strict();
export type VariantInput = z.infer<typeof variantSchema>;

const variantsSchema = z
  .array(variantSchema)
  .min(2, 'an experiment needs at least 2 variants (the first is control)')
  .max(10, 'an experiment may have at most 10 variants')
  .superRefine((variants, ctx) => {
    const sum = variants.reduce((s, v) => s + v.weight, 0);
    if (Math.abs(sum - 1) > WEIGHT_TOLERANCE) {
      ctx.addIssue({ code: 'custom', message: `variant weights must sum to 1 (they sum to ${sum})` });
    }
    const seen = new Set<string>();
    variants.forEach((v, i) => {
      if (seen.has(v.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `duplicate variant key "${v.key}"` });
      seen.add(v.key);
    });
  });

/** Traffic is a percent of the layer's buckets, 0–100 in steps of 0.01 (one bucket). */
export const trafficSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((t) => Math.abs(Math.round(t * 100) - t * 100) < 1e-6, 'traffic moves in steps of 0.01 percent');

export const forcedVariantSchema = z
  .object({ unitId: storable(z.string().min(1).max(256)), variant: keySchema, expiresAt: z.iso.datetime({ offset: true }).nullable().optional() })
  .strict();
export type ForcedVariantInput = z.infer<typeof forcedVariantSchema>;

/** What a segment dimension may not be named: `day` holds the engine's time series. */
const RESERVED_SEGMENT_DIMENSIONS = ['day'];
/** The pseudo-dimension of exposure-day cohorts (units first exposed on one UTC day), computed from the first exposure. */
export const FIRST_EXPOSURE_DAY = 'first_exposure_day';
/** Segment dimensions of an experiment that declares none. */
export const DEFAULT_SEGMENT_DIMENSIONS = ['country', 'platform', 'day_of_week'];
/** Most segment dimensions an experiment declares: each keeps metrics × variants rows per value. */
export const MAX_SEGMENT_DIMENSIONS = 5;
/**
 * The exposure attributes (or `day_of_week`, the UTC weekday of the first exposure, or
 * `first_exposure_day`, its UTC date: the exposure-day cohort novelty is tested on) an experiment
 * is broken down by: the engine keeps their statistics incrementally, and `?segment=` answers only
 * these. Absent or null: country, platform, day_of_week.
 */
export const segmentDimensionsSchema = z
  .array(z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." or "-"'))
  .max(MAX_SEGMENT_DIMENSIONS)
  .superRefine((dims, ctx) => {
    dims.forEach((d, i) => {
      if (RESERVED_SEGMENT_DIMENSIONS.includes(d)) ctx.addIssue({ code: 'custom', path: [i], message: `"${d}" is reserved (the time series); use day_of_week` });
      if (dims.indexOf(d) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${d}" is listed twice` });
    });
  });

const experimentFields = {
  name: nameSchema,
  hypothesis: descriptionSchema.optional(),
  layer: keySchema,
  variants: variantsSchema,
  traffic: trafficSchema.default(100),
  targeting: boundedTargetingSchema.nullable().optional(),
  forcedVariants: z.array(forcedVariantSchema).max(1000).optional(),
  primaryMetric: keySchema.nullable().optional(),
  secondaryMetrics: z.array(keySchema).max(50).optional(),
  guardrailMetrics: z.array(keySchema).max(20).optional(),
  /**
   * Planned units PER ARM (control and each treatment alike), the unit `sampleSizeSequential`
   * returns and the sequential tuning N* reads. Not the total over arms.
   */
  plannedSampleSize: z.number().int().min(10).max(1_000_000_000).nullable().optional().describe('Planned units per arm (not the total over arms)'),
  /** Days before "Ready to ship" may show (default 7: a full weekly cycle); 0 disables the rule. */
  minDurationDays: z.number().int().min(0).max(365).nullable().optional().describe('Minimum days before ship (default 7)'),
  autoStop: z.boolean().optional(),
  segmentDimensions: segmentDimensionsSchema.nullable().optional(),
  salt: saltSchema.optional(),
  /** The type of every variant's value and of `defaultValue`; null or absent: variants carry no values. */
  valueType: z.enum(VALUE_TYPES).nullable().optional(),
  /** What units not in the experiment get (not targeted, outside its traffic); required with a valueType. */
  defaultValue: variantValueSchema.nullable().optional(),
};

function checkForced(e: { variants?: VariantInput[]; forcedVariants?: ForcedVariantInput[] }, ctx: z.RefinementCtx): void {
  if (!e.variants || !e.forcedVariants) return;
  const keys = new Set(e.variants.map((v) => v.key));
  e.forcedVariants.forEach((f, i) => {
    if (!keys.has(f.variant)) ctx.addIssue({ code: 'custom', path: ['forcedVariants', i, 'variant'], message: `unknown variant "${f.variant}"` });
  });
}

export const createExperimentSchema = z
  .object({ key: keySchema, ...experimentFields })
  .strict()
  .superRefine(checkForced)
  .superRefine((e, ctx) => checkValues(e, ctx, true));
export const updateExperimentSchema = z
  .object({
    name: nameSchema.optional(),
    hypothesis: descriptionSchema.optional(),
    layer: keySchema.optional(),
    variants: variantsSchema.optional(),
    traffic: trafficSchema.optional(),
    targeting: experimentFields.targeting,
    forcedVariants: experimentFields.forcedVariants,
    primaryMetric: experimentFields.primaryMetric,
    secondaryMetrics: experimentFields.secondaryMetrics,
    guardrailMetrics: experimentFields.guardrailMetrics,
    plannedSampleSize: experimentFields.plannedSampleSize,
    minDurationDays: experimentFields.minDurationDays,
    autoStop: z.boolean().optional(),
    segmentDimensions: experimentFields.segmentDimensions,
    valueType: experimentFields.valueType,
    defaultValue: experimentFields.defaultValue,
  })
  .strict()
  // Values are checked against the experiment as it will be after the change (the stored valueType
  // when the request does not set one), by the service: checkValues on the merged experiment.
  .superRefine(checkForced);
/**
 * `startedAt`: when the experiment really started, if earlier than now (the flag went live before
 * it was started here, a backfill, a demo): at most 7 days back, like the events it admits.
 */
export const startExperimentSchema = z.object({ startedAt: z.iso.datetime({ offset: true }).optional() }).strict();
export const rampExperimentSchema = z.object({ traffic: trafficSchema }).strict();
/* shipExperimentSchema (with its staged forms) is in rollouts.ts, next to the plan schema it embeds. */
export const stopExperimentSchema = z.object({ reason: storable(z.string().max(1000)).optional() }).strict();
export const rerandomizeExperimentSchema = z.object({ salt: saltSchema.optional() }).strict();

export type CreateExperimentRequest = z.input<typeof createExperimentSchema>;
export type UpdateExperimentRequest = z.input<typeof updateExperimentSchema>;
export type StartExperimentRequest = z.input<typeof startExperimentSchema>;

export interface VariantDto {
  key: string;
  name: string;
  weight: number;
  /** Present when the experiment has a valueType. */
  value?: VariantValue;
}
export interface ForcedVariantDto {
  unitId: string;
  variant: string;
  expiresAt: string | null;
}
export interface ExperimentAlertDto {
  kind: 'guardrail_harm' | 'srm';
  message: string;
  at: string;
  details?: Record<string, unknown>;
}
export interface ExperimentDto {
  key: string;
  name: string;
  hypothesis: string;
  layer: string;
  status: ExperimentStatus;
  variants: VariantDto[];
  traffic: number;
  targeting: TargetingRule | null;
  forcedVariants: ForcedVariantDto[];
  primaryMetric: string | null;
  secondaryMetrics: string[];
  guardrailMetrics: string[];
  plannedSampleSize: number | null;
  /** Null: the default minimum duration (7 days). */
  minDurationDays: number | null;
  autoStop: boolean;
  /** The segment dimensions the results are broken down by (the defaults when none were declared). */
  segmentDimensions: string[];
  salt: string;
  shippedVariant: string | null;
  /**
   * A staged ship only (absent otherwise, a full ship included): the percent of targeted units
   * that get `shippedVariant` (the others get the default), 0–100 in steps of 0.01.
   */
  shipTraffic?: number;
  /** Null: variants carry no values. */
  valueType: ValueType | null;
  /** What units not in the experiment get; null without a valueType. */
  defaultValue: VariantValue | null;
  ranges: BucketRange[];
  alerts: ExperimentAlertDto[];
  startedAt: string | null;
  stoppedAt: string | null;
  stopReason: string | null;
  /** When it was concluded (its code removed); null otherwise. */
  concludedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

// ---------- Listing ----------
export const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
export const listExperimentsQuerySchema = listQuerySchema
  .extend({
    status: z.enum(EXPERIMENT_STATUSES).optional(),
    layer: keySchema.optional(),
    search: storable(z.string().max(200)).optional(),
  })
  .strict();
export const listMetricsQuerySchema = listQuerySchema
  .extend({ archived: z.enum(METRIC_ARCHIVED_FILTERS).default('exclude') })
  .strict();
/** A list query as a client writes it: every field optional, the server fills the defaults. */
export type ListQuery = Partial<z.output<typeof listQuerySchema>>;
export type ListMetricsQuery = Partial<z.output<typeof listMetricsQuerySchema>>;
export type ListExperimentsQuery = Partial<z.output<typeof listExperimentsQuerySchema>>;
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

// ---------- Audit ----------
/** What an audit entry can be about. */
export const AUDIT_ENTITY_TYPES = ['experiment', 'layer', 'metric', 'api_key', 'user', 'holdout'] as const;
export type AuditEntityType = (typeof AUDIT_ENTITY_TYPES)[number];
export const auditQuerySchema = listQuerySchema
  .extend({
    entityType: z.enum(AUDIT_ENTITY_TYPES).optional(),
    entityKey: storable(z.string().max(200)).optional(),
    action: storable(z.string().max(100)).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type AuditQuery = Partial<z.output<typeof auditQuerySchema>>;
export interface AuditEntryDto {
  id: string;
  at: string;
  /** Who made the change: a person (e-mail), an API key (its name) or the system. */
  actor: AuditActorDto;
  /** The API key that made the change, when a key did; kept for existing readers (see `actor`). */
  apiKeyId: string | null;
  action: string;
  entityType: AuditEntityType;
  entityKey: string;
  before: unknown;
  after: unknown;
}
