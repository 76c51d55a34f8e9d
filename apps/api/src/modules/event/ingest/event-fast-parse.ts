import {
  EVENT_ID_PATTERN,
  isAnalyzableValue,
  isStorableText,
  MAX_ATTRIBUTE_ARRAY,
  MAX_ATTRIBUTE_STRING,
  MAX_ATTRIBUTES,
  type ParsedEvent,
} from '@strata/contracts';

/*
 * Hot path: a hand-written check of the common, valid event shape, several times faster than the
 * zod schema. It answers only "certainly valid" (the parsed event) or "not sure" (null); the caller
 * then runs `eventInputSchema`, which stays the single source of truth and writes the rejection
 * message. So this must never accept what the schema rejects (a property test checks it); being
 * stricter is harmless. No allocation beyond the result object.
 */

const KEY = /^[a-z0-9][a-z0-9_-]*$/;
// Seconds required, fraction up to ns, Z or an offset; the day is range-checked below.
const ISO = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;

function text(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max && isStorableText(v);
}

function key(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 64 && KEY.test(v);
}

function timestamp(v: string): boolean {
  const m = ISO.exec(v);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate() && year >= 1;
}

function scalar(v: unknown): boolean {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  return typeof v === 'string' && v.length <= MAX_ATTRIBUTE_STRING && isStorableText(v);
}

function attributes(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
  let n = 0;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) return false;
    if (++n > MAX_ATTRIBUTES || k === '__proto__' || !text(k, 1, 100)) return false;
    const value = (v as Record<string, unknown>)[k];
    if (Array.isArray(value)) {
      if (value.length > MAX_ATTRIBUTE_ARRAY) return false;
      for (let i = 0; i < value.length; i++) if (!scalar(value[i])) return false;
    } else if (!scalar(value)) return false;
  }
  return true;
}

const absent = (v: unknown): v is null | undefined => v === undefined || v === null;

/** The parsed event when `raw` is certainly valid, else null (ask the zod schema). */
export function fastParseEvent(raw: unknown): ParsedEvent | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const type = r.type;
  if (type !== 'exposure' && type !== 'metric') return null;
  if (!text(r.unitId, 1, 256)) return null;
  const { id, experiment, variant, name, value, timestamp: ts, attributes: attrs } = r;
  if (!absent(id) && !(typeof id === 'string' && EVENT_ID_PATTERN.test(id))) return null;
  if (!absent(experiment) && !key(experiment)) return null;
  if (!absent(variant) && !key(variant)) return null;
  if (!absent(name) && !text(name, 1, 200)) return null;
  if (!absent(value) && !(typeof value === 'number' && Number.isFinite(value) && isAnalyzableValue(value))) return null;
  if (!absent(ts) && !(typeof ts === 'string' && timestamp(ts))) return null;
  if (!absent(attrs) && !attributes(attrs)) return null;
  if (type === 'exposure' ? !experiment || !variant : !name) return null;
  return {
    id: id as string | null | undefined,
    type,
    unitId: r.unitId as string,
    experiment: experiment as string | null | undefined,
    variant: variant as string | null | undefined,
    name: name as string | null | undefined,
    value: value as number | null | undefined,
    timestamp: ts as string | null | undefined,
    attributes: attrs as ParsedEvent['attributes'],
  };
}
