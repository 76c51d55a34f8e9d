import {
  EVENT_MAX_AGE_MS,
  EVENT_MAX_SKEW_AHEAD_MS,
  EXPOSURE_START_SKEW_MS,
  eventInputSchema,
  type EventRejection,
  type EventRejectionCode,
} from '@strata/contracts';
import { eventId } from './event-id';
import { fastParseEvent } from './event-fast-parse';
import { expectedVariant, type CatalogExperiment } from '../../config-state/experiment-catalog';
import type { EventRow } from '../store/event-row';

export interface ValidationContext {
  /** The in-memory catalog lookup (no database access). */
  experiment: (key: string) => CatalogExperiment | undefined;
  /** Server time, epoch ms: an event's time when it gives none, and the reference of the timestamp window (received_at is the store's). */
  now: number;
  apiKeyId: string | null;
}

export interface ValidatedEvents {
  rows: EventRow[];
  rejected: EventRejection[];
}

function reject(index: number, code: EventRejectionCode, message: string): EventRejection {
  return { index, code, message };
}

/**
 * Pure core of ingestion: each raw event becomes a row or a rejection with its index, never an
 * exception, so one bad event never costs the good ones. Hot path: no I/O, no database read.
 * `indexes` maps positions to reported indexes (import reports line numbers).
 */
const own = Object.prototype.hasOwnProperty;

/**
 * Where an event holds an own `__proto__` key (JSON.parse makes one from `"__proto__": …`), or
 * null. Copying such an object key by key (zod's record output does) would set its prototype.
 */
function protoKeyPath(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  if (own.call(raw, '__proto__')) return 'event';
  const attributes = (raw as { attributes?: unknown }).attributes;
  if (typeof attributes === 'object' && attributes !== null && own.call(attributes, '__proto__')) return 'attributes';
  return null;
}

export function validateEvents(raw: readonly unknown[], ctx: ValidationContext, indexes?: readonly number[]): ValidatedEvents {
  const rows: EventRow[] = [];
  const rejected: EventRejection[] = [];
  const minTs = ctx.now - EVENT_MAX_AGE_MS;
  const maxTs = ctx.now + EVENT_MAX_SKEW_AHEAD_MS;
  for (let i = 0; i < raw.length; i++) {
    const index = indexes ? indexes[i] : i;
    const poisoned = protoKeyPath(raw[i]);
    if (poisoned !== null) {
      rejected.push(reject(index, 'invalid_event', `${poisoned}: a "__proto__" key is not allowed (it would replace the object's prototype)`));
      continue;
    }
    let e = fastParseEvent(raw[i]);
    if (e === null) {
      const parsed = eventInputSchema.safeParse(raw[i]);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue.path.length ? issue.path.join('.') : 'event';
        rejected.push(reject(index, 'invalid_event', `${path}: ${issue.message}`));
        continue;
      }
      e = parsed.data;
    }
    let ts = ctx.now;
    if (e.timestamp) {
      ts = Date.parse(e.timestamp);
      if (!(ts >= minTs && ts <= maxTs)) {
        rejected.push(reject(index, 'timestamp_out_of_range', `timestamp ${e.timestamp} is more than 7 days old or more than 5 minutes ahead of server time`));
        continue;
      }
    }
    let forced = false;
    if (e.type === 'exposure') {
      const key = e.experiment as string;
      const variant = e.variant as string;
      const exp = ctx.experiment(key);
      if (exp === undefined) {
        rejected.push(reject(index, 'unknown_experiment', `no experiment "${key}"`));
        continue;
      }
      if (exp.status === 'draft') {
        rejected.push(reject(index, 'experiment_not_started', `experiment "${key}" has not started`));
        continue;
      }
      if (exp.startedAt !== null && ts < exp.startedAt - EXPOSURE_START_SKEW_MS) {
        // Before the start nobody could be assigned (an SDK gets running experiments only): a
        // wrong client clock or a backfill. Counted, its unit's pre-start events would be outcomes.
        rejected.push(
          reject(index, 'before_start', `experiment "${key}" started at ${new Date(exp.startedAt).toISOString()}, more than 5 minutes after this exposure`),
        );
        continue;
      }
      if (exp.stoppedAt !== null && ts > exp.stoppedAt) {
        rejected.push(reject(index, 'experiment_stopped', `experiment "${key}" stopped at ${new Date(exp.stoppedAt).toISOString()}, before this exposure`));
        continue;
      }
      const expected = expectedVariant(exp, e.unitId, ts);
      if (expected.variant !== variant) {
        const why = exp.variantKeys.includes(variant) ? `unit "${e.unitId}" is assigned "${expected.variant}"` : `the experiment has no variant "${variant}"`;
        rejected.push(reject(index, 'variant_mismatch', `exposure to "${variant}" contradicts the assignment: ${why}`));
        continue;
      }
      forced = expected.forced;
    }
    rows.push({
      id: e.id ? e.id.toLowerCase() : eventId(),
      type: e.type,
      unitId: e.unitId,
      experimentKey: e.experiment ?? null,
      variantKey: e.variant ?? null,
      name: e.name ?? null,
      value: e.value ?? null,
      ts,
      attributes: e.attributes ? JSON.stringify(e.attributes) : null,
      apiKeyId: ctx.apiKeyId,
      forced,
    });
  }
  return { rows, rejected };
}
