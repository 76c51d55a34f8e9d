import { createHash } from 'node:crypto';
import type { EventRow } from '../store/event-row';

/**
 * How a batch of validated events travels through the log: one JetStream message per request
 * (split when it would pass the server's max_payload), UTF-8, a format line and then one JSON
 * array per event:
 *
 *   r1
 *   [["<id>","exposure","<unit>","<experiment>","<variant>",null,null,<ts ms>,null,"<api key id>",0],
 *   […]]
 *
 * Arrays rather than objects: a third of the bytes, and both sides know the column order; one
 * JSON array for the whole batch, so the writer parses it in one call.
 * `received_at` is not carried: the writer stamps it with its transaction's start (event-store.ts).
 */
const FORMAT = 'r1';

type Wire = [
  string,
  string,
  string,
  string | null,
  string | null,
  string | null,
  number | null,
  number,
  string | null,
  string | null,
  0 | 1,
];

export interface EncodedBatch {
  data: Uint8Array;
  /** JetStream message id: the same events re-sent (a client retry) make the same id, which the stream drops within its duplicate window. */
  msgId: string;
  rows: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function line(r: EventRow): string {
  const wire: Wire = [
    r.id,
    r.type,
    r.unitId,
    r.experimentKey,
    r.variantKey,
    r.name,
    r.value,
    r.ts,
    r.attributes,
    r.apiKeyId,
    r.forced ? 1 : 0,
  ];
  return JSON.stringify(wire);
}

/** Rows (unique ids) into messages of at most `maxBytes` each; every message holds at least one row. */
export function encodeBatches(rows: readonly EventRow[], maxBytes: number): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  let lines: string[] = [];
  let ids = createHash('sha256');
  let bytes = FORMAT.length + 3;
  let count = 0;
  const flush = (): void => {
    if (count === 0) return;
    out.push({ data: encoder.encode(`${FORMAT}\n[${lines.join(',\n')}]`), msgId: ids.digest('base64url'), rows: count });
    lines = [];
    ids = createHash('sha256');
    bytes = FORMAT.length + 3;
    count = 0;
  };
  for (const r of rows) {
    const l = line(r);
    // UTF-8 is at most 3 bytes per UTF-16 unit: a cheap upper bound instead of encoding twice.
    const size = l.length * 3 + 2;
    if (count > 0 && bytes + size > maxBytes) flush();
    lines.push(l);
    ids.update(r.id).update(',');
    bytes += size;
    count++;
  }
  flush();
  return out;
}

export class EventLogFormatError extends Error {}

function str(v: unknown, nullable: boolean): v is string | null {
  return typeof v === 'string' || (nullable && v === null);
}

/** A message back into rows (no received_at: the store stamps it). Throws EventLogFormatError on anything it did not write. */
export function decodeBatch(data: Uint8Array): EventRow[] {
  const text = decoder.decode(data);
  const newline = text.indexOf('\n');
  if (newline < 0 || text.slice(0, newline) !== FORMAT)
    throw new EventLogFormatError(`unknown batch format ${JSON.stringify(text.slice(0, 16))}`);
  let all: unknown;
  try {
    all = JSON.parse(text.slice(newline + 1));
  } catch (error) {
    throw new EventLogFormatError(`batch is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(all)) throw new EventLogFormatError('batch is not an array of rows');
  const rows: EventRow[] = [];
  for (let i = 0; i < all.length; i++) {
    const w = all[i] as unknown;
    if (
      !Array.isArray(w) ||
      w.length !== 11 ||
      !str(w[0], false) ||
      (w[1] !== 'exposure' && w[1] !== 'metric') ||
      !str(w[2], false) ||
      !str(w[3], true) ||
      !str(w[4], true) ||
      !str(w[5], true) ||
      !(typeof w[6] === 'number' || w[6] === null) ||
      typeof w[7] !== 'number' ||
      !str(w[8], true) ||
      !str(w[9], true) ||
      (w[10] !== 0 && w[10] !== 1)
    ) {
      throw new EventLogFormatError(`row ${i} is not an event row`);
    }
    const [id, type, unitId, experimentKey, variantKey, name, value, ts, attributes, apiKeyId, forced] = w as Wire;
    rows.push({
      id,
      type: type as EventRow['type'],
      unitId,
      experimentKey,
      variantKey,
      name,
      value,
      ts,
      attributes,
      apiKeyId,
      forced: forced === 1,
    });
  }
  return rows;
}
