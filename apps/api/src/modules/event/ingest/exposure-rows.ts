import type { Attributes } from '@strata/contracts';
import type { EventRow } from '../store/event-row';
import { eventId } from './event-id';

/**
 * An exposure the server logs itself (`/v1/assign` with `logExposures`): the one shape from the
 * assignment to the store, its time in epoch ms like every row's. Trusted, so not checked against
 * the catalog like a client's event. Internal, not a wire type: clients send their exposures to
 * `POST /v1/events` as `EventInput` (libs/contracts events.ts, ISO-8601 timestamps), which
 * validateEvents turns into rows.
 */
export interface ExposureRecord {
  unitId: string;
  experiment: string;
  variant: string;
  attributes: Attributes | null;
  /** When the unit was assigned, epoch ms. */
  timestamp: number;
  /** Event id for dedup; a server id (uuid v7) when absent. */
  id?: string;
  /** The unit had a forced variant (analysis leaves those out); false when absent. */
  forced?: boolean;
}

/** Server-side exposures as rows for the writer: the same durable, deduplicated path as `POST /v1/events`. */
export function exposureRows(exposures: readonly ExposureRecord[], apiKeyId: string | null): EventRow[] {
  const now = Date.now();
  return exposures.map((e): EventRow => ({
    id: e.id ? e.id.toLowerCase() : eventId(now),
    type: 'exposure',
    unitId: e.unitId,
    experimentKey: e.experiment,
    variantKey: e.variant,
    name: null,
    value: null,
    ts: e.timestamp,
    attributes: e.attributes ? JSON.stringify(e.attributes) : null,
    apiKeyId,
    forced: e.forced ?? false,
  }));
}
