import type { EventType } from '@strata/contracts';
import type { BinaryCopyWriter } from './copy-binary';

/**
 * One validated event, ready for the writer. Times are epoch milliseconds. No `receivedAt`: a row
 * is received when the store's transaction starts (event-store.ts), which stamps every row of the
 * transaction with that one time as it encodes them (`writeEventRow`, `writeLedgerRow`).
 */
export interface EventRow {
  id: string;
  type: EventType;
  unitId: string;
  experimentKey: string | null;
  variantKey: string | null;
  name: string | null;
  value: number | null;
  ts: number;
  /** JSON text, or null. */
  attributes: string | null;
  apiKeyId: string | null;
  /** Exposures only: the unit had a forced variant (analysis leaves those units out). */
  forced: boolean;
}

/** Column order of `events` in every COPY row. */
export const EVENT_COLUMNS = [
  'id',
  'type',
  'unit_id',
  'experiment_key',
  'variant_key',
  'name',
  'value',
  'ts',
  'received_at',
  'attributes',
  'api_key_id',
] as const;

/** One `events` row in binary COPY format, in EVENT_COLUMNS order; `receivedAt` is the transaction's (epoch ms). */
export function writeEventRow(w: BinaryCopyWriter, r: EventRow, receivedAt: number): void {
  w.row(EVENT_COLUMNS.length).uuid(r.id).text(r.type).text(r.unitId).text(r.experimentKey).text(r.variantKey).text(r.name);
  w.float8(r.value).timestamptz(r.ts).timestamptz(receivedAt).jsonb(r.attributes);
  if (r.apiKeyId === null) w.null();
  else w.uuid(r.apiKeyId);
}

/** One `event_ids` ledger row (id, received_at) in binary COPY format; `receivedAt` as in writeEventRow. */
export function writeLedgerRow(w: BinaryCopyWriter, r: EventRow, receivedAt: number): void {
  w.row(2).uuid(r.id).timestamptz(receivedAt);
}
