import type { EventType } from '@strata/contracts';

/** One validated event, ready for the writer. Times are epoch milliseconds. */
export interface EventRow {
  id: string;
  type: EventType;
  unitId: string;
  experimentKey: string | null;
  variantKey: string | null;
  name: string | null;
  value: number | null;
  ts: number;
  receivedAt: number;
  /** JSON text, or null. */
  attributes: string | null;
  apiKeyId: string | null;
  /** Exposures only: the unit had a forced variant (analysis leaves those units out). */
  forced: boolean;
}

/** Column order of the staging table and of every COPY line. */
export const STAGE_COLUMNS = [
  'seq',
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
  'forced',
] as const;

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A field in PostgreSQL COPY text format. Validation already refused NUL, which COPY cannot carry. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c] ?? c) : value;
}

/** One COPY text line (with its newline) for a staged row; `seq` is the row's position in its group. */
export function copyLine(seq: number, r: EventRow): string {
  return (
    `${seq}\t${r.id}\t${r.type}\t${copyField(r.unitId)}\t${copyField(r.experimentKey)}\t${copyField(r.variantKey)}\t` +
    `${copyField(r.name)}\t${r.value === null ? '\\N' : String(r.value)}\t${new Date(r.ts).toISOString()}\t` +
    `${new Date(r.receivedAt).toISOString()}\t${copyField(r.attributes)}\t${r.apiKeyId ?? '\\N'}\t${r.forced ? 't' : 'f'}\n`
  );
}

const DAY_MS = 86_400_000;

/** UTC day number (days since the epoch) of an epoch-ms time. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `events_YYYYMMDD` and its range [from, to) for a UTC day number. */
export function partitionFor(day: number): { name: string; from: string; to: string } {
  const from = new Date(day * DAY_MS);
  const to = new Date((day + 1) * DAY_MS);
  const ymd = from.toISOString().slice(0, 10).replace(/-/g, '');
  return { name: `events_${ymd}`, from: from.toISOString(), to: to.toISOString() };
}
