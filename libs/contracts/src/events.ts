import { z } from 'zod';
import { keySchema } from './config';
import { holdoutExposureKeySchema } from './holdouts';
import { shipExposureKeySchema } from './rollouts';
import { storable } from './text';

/**
 * Event collection: `POST /v1/events` (SDK keys), `POST /v1/events/import` (admin, NDJSON),
 * `GET /v1/events/stats` (admin). One schema, three users: the API validates with it, the SDK
 * imports the request/response types, the dashboard reads the stats.
 */

export const EVENT_TYPES = ['exposure', 'metric'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Most events one `POST /v1/events` may carry (more: 413). */
export const MAX_EVENTS_PER_REQUEST = 1000;
/** Largest `POST /v1/events` body, bytes (more: 413). */
export const MAX_EVENTS_BODY_BYTES = 1024 * 1024;
export const MAX_ATTRIBUTES = 50;
export const MAX_ATTRIBUTE_STRING = 1024;
export const MAX_ATTRIBUTE_ARRAY = 100;
/** Client timestamps are kept within this window around server time; outside it the event is rejected. */
export const EVENT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const EVENT_MAX_SKEW_AHEAD_MS = 5 * 60 * 1000;
/** Exposures may be this much earlier than their experiment's start (client clocks run behind); earlier ones are rejected. */
export const EXPOSURE_START_SKEW_MS = 5 * 60 * 1000;

/** Any RFC 4122-shaped UUID (any version); stored lower-case. */
export const EVENT_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Metric values the analysis can square and sum in double precision without overflow or underflow
 * (PostgreSQL raises an error on either, so one 1e200 would break an experiment's results for good):
 * 0, or a magnitude from 1e-12 to 1e15 — money in cents, durations in µs and counts all fit.
 */
export const MAX_EVENT_VALUE = 1e15;
export const MIN_EVENT_VALUE_MAGNITUDE = 1e-12;
export function isAnalyzableValue(v: number): boolean {
  const m = Math.abs(v);
  return m === 0 || (m >= MIN_EVENT_VALUE_MAGNITUDE && m <= MAX_EVENT_VALUE);
}
const EVENT_VALUE_MESSAGE = 'must be 0 or between 1e-12 and 1e15 in magnitude';

/** Text that PostgreSQL can store (see text.ts): rejected per event instead of failing a batch. */
const boundedString = (max: number) => storable(z.string().max(max));

const attributeScalar = z.union([boundedString(MAX_ATTRIBUTE_STRING), z.number(), z.boolean(), z.null()]);
/** Shallow attributes: scalar values or arrays of scalars; nested objects are rejected. */
export const eventAttributesSchema = z
  .record(boundedString(100).min(1), z.union([attributeScalar, z.array(attributeScalar).max(MAX_ATTRIBUTE_ARRAY)]))
  .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, `at most ${MAX_ATTRIBUTES} attributes`);

/** One event as sent by a client. Unknown fields are ignored (forward compatibility); `null` means absent. */
export const eventInputSchema = z
  .object({
    id: z.string().regex(EVENT_ID_PATTERN, 'must be a UUID').nullish(),
    type: z.enum(EVENT_TYPES),
    unitId: boundedString(256).min(1),
    /** An experiment key, `holdout:<key>` for a holdout's comparison, or `ship:<key>` for a staged ship's. */
    experiment: z.union([keySchema, holdoutExposureKeySchema, shipExposureKeySchema]).nullish(),
    variant: keySchema.nullish(),
    name: boundedString(200).min(1).nullish(),
    value: z.number().finite().refine(isAnalyzableValue, EVENT_VALUE_MESSAGE).nullish(),
    timestamp: z.iso.datetime({ offset: true }).nullish(),
    attributes: eventAttributesSchema.nullish(),
  })
  .superRefine((e, ctx) => {
    if (e.type === 'exposure') {
      if (!e.experiment) ctx.addIssue({ code: 'custom', path: ['experiment'], message: 'an exposure needs "experiment"' });
      if (!e.variant) ctx.addIssue({ code: 'custom', path: ['variant'], message: 'an exposure needs "variant"' });
    } else if (!e.name) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'a metric event needs "name"' });
    }
  });
export type EventInput = z.input<typeof eventInputSchema>;
export type ParsedEvent = z.output<typeof eventInputSchema>;

/**
 * The request envelope. Each element is validated on its own (one bad event never costs the good
 * ones), so the envelope only requires an array.
 */
export const ingestRequestSchema = z.object({ events: z.array(z.unknown()) });
export interface IngestRequest {
  events: EventInput[];
}

export const EVENT_REJECTION_CODES = [
  'invalid_event',
  'unknown_experiment',
  'variant_mismatch',
  'experiment_not_started',
  'before_start',
  'experiment_stopped',
  'timestamp_out_of_range',
] as const;
export type EventRejectionCode = (typeof EVENT_REJECTION_CODES)[number];

export interface EventRejection {
  /** Position in the request's `events` array (import: 1-based line number). */
  index: number;
  code: EventRejectionCode;
  message: string;
}

/** `202` answer: `accepted` were newly stored, `duplicates` were already stored (or repeated in this request). */
export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: EventRejection[];
}

export interface ImportResponse {
  lines: number;
  accepted: number;
  duplicates: number;
  rejectedCount: number;
  rejectedByCode: Partial<Record<EventRejectionCode, number>>;
  /** The first rejected lines (capped; see `rejectedCount` for the total). */
  rejected: EventRejection[];
  truncated: boolean;
}

export interface EventStatsDto {
  /** Since this API process started. */
  since: string;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejectedByCode: Partial<Record<EventRejectionCode, number>>;
  /** Requests answered 503 (queue full / database unreachable / shutting down) and 429. */
  unavailable: number;
  rateLimited: number;
  queue: { events: number; max: number };
  writer: { transactions: number; rows: number; lastError: string | null; lastErrorAt: string | null };
  /** With STRATA_EVENT_LOG: the log's backlog and, in a process that writes it, that writer's figures; null without a log. */
  log: EventLogStatsDto | null;
}

/** What the event log (NATS JetStream) holds that no writer has committed yet. */
export interface EventLogBacklogDto {
  /** Batches in the stream (work-queue retention: acknowledged ones are gone, so this is the backlog). */
  messages: number;
  bytes: number;
  /** Not yet delivered to any writer. */
  pending: number;
  /** Delivered to a writer and not yet acknowledged (being written, or held by a writer that died, until ack_wait). */
  ackPending: number;
  redelivered: number;
  /** Age of the oldest batch in the stream, ms (0 when empty). */
  oldestMs: number;
}

export interface EventLogWriterStatsDto {
  running: boolean;
  /** Batches and events committed by this process; duplicates (already in the ledger) apart. */
  messages: number;
  events: number;
  duplicates: number;
  /** Events committed per second over the last 10 s. */
  eventsPerSecond: number;
  inFlight: number;
  /** Commit attempts that failed (database down…): the batch stays unacknowledged and is tried again. */
  retries: number;
  /** Batches this writer could not read (terminated and logged). */
  unreadable: number;
  lastCommitAt: string | null;
  /** From the stream storing a batch (just before its 202) to its COMMIT, over the last 2,048 batches. */
  commitLagMs: { p50: number; p99: number; max: number } | null;
  lastError: string | null;
}

export interface EventLogStatsDto {
  status: 'up' | 'down';
  servers: string[];
  /** The server this process is connected to. */
  connectedTo: string | null;
  stream: string;
  replicas: number;
  backlog: EventLogBacklogDto | null;
  lastError: string | null;
  /** Published by this process. */
  published: { messages: number; events: number; duplicateMessages: number; failures: number };
  writer: EventLogWriterStatsDto | null;
}
