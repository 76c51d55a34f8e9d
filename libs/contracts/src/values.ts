import { z } from 'zod';
import { isStorableText } from './text';

/**
 * Variant values: each variant of an experiment may carry a value of one type per experiment
 * (a colour, a limit, a JSON config), and the experiment has a default value for units not in it.
 * Application code reads the value instead of branching on variant keys, so a new experiment can
 * change behaviour without a deploy.
 */
export const VALUE_TYPES = ['boolean', 'string', 'number', 'json'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A variant's (or the default) value: a boolean, string or number, or any JSON for `json`. */
export type VariantValue = JsonValue;

/** Largest value, as UTF-8 bytes of its JSON: it travels in every snapshot and assignment reply. */
export const MAX_VALUE_BYTES = 8192;
/** Deepest nesting of a `json` value (`{"a":[1]}` has depth 2). */
export const MAX_VALUE_DEPTH = 10;

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Why `value` is not valid JSON data within the bounds, or null. Linear in its size, never recursive beyond MAX_VALUE_DEPTH. */
function jsonProblem(value: unknown, depth: number): string | null {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'numbers must be finite';
  if (typeof value === 'string') return isStorableText(value) ? null : 'strings must not contain NUL or unpaired surrogates';
  if (typeof value !== 'object') return `a ${typeof value} is not JSON`;
  if (depth >= MAX_VALUE_DEPTH) return `nested deeper than ${MAX_VALUE_DEPTH} levels`;
  const items = Array.isArray(value) ? (value as unknown[]) : Object.entries(value as Record<string, unknown>);
  for (const item of items) {
    if (Array.isArray(value)) {
      const p = jsonProblem(item, depth + 1);
      if (p !== null) return p;
      continue;
    }
    const [k, v] = item as [string, unknown];
    if (!isStorableText(k)) return 'object keys must not contain NUL or unpaired surrogates';
    const p = jsonProblem(v, depth + 1);
    if (p !== null) return p;
  }
  return null;
}

/**
 * Why `value` is not a valid value of type `type`, or null when it is. The one check used by
 * the API (on save), the dashboard's variants editor (beside the field) and the SDK's tests.
 */
export function valueProblem(type: ValueType, value: unknown): string | null {
  if (value === undefined || value === null) return 'a value is required (null is not a value)';
  switch (type) {
    case 'boolean':
      if (typeof value !== 'boolean') return 'must be true or false';
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
      break;
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      break;
    case 'json':
      break;
  }
  const p = jsonProblem(value, 0);
  if (p !== null) return p;
  const bytes = utf8Length(JSON.stringify(value));
  return bytes > MAX_VALUE_BYTES ? `is ${bytes} bytes of JSON; at most ${MAX_VALUE_BYTES}` : null;
}

/** Any value; its type and bounds are checked against the experiment's `valueType` (see checkValues). */
export const variantValueSchema = z.custom<VariantValue>((v) => v !== undefined, 'a value is required');

/**
 * The JSON text typed into an editor, parsed and checked: `{ value }` or `{ error }` to show
 * beside the field. Booleans and numbers are typed as JSON (`true`, `42`); a string field takes
 * the text as it is.
 */
export function parseValueInput(type: ValueType, text: string): { value: VariantValue } | { error: string } {
  let value: unknown = text;
  if (type !== 'string') {
    if (text.trim() === '') return { error: 'a value is required' };
    try {
      value = JSON.parse(text) as unknown;
    } catch (e) {
      return { error: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  const problem = valueProblem(type, value);
  return problem === null ? { value: value as VariantValue } : { error: problem };
}

/** How a value is shown in an editor: strings as they are, anything else as (pretty) JSON. */
export function formatValueInput(type: ValueType, value: VariantValue | undefined): string {
  if (value === undefined) return '';
  if (type === 'string' && typeof value === 'string') return value;
  return type === 'json' ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}

/**
 * Experiment-level rules: with a `valueType`, every variant has a value of that type and so does
 * `defaultValue`; without one (null or absent), neither variants nor the experiment carry values.
 */
export function checkValues(
  e: { valueType?: ValueType | null; defaultValue?: unknown; variants?: readonly { value?: unknown }[] },
  ctx: z.RefinementCtx,
  requireAll: boolean,
): void {
  const type = e.valueType ?? null;
  if (type === null) {
    if (e.valueType === null || requireAll) {
      e.variants?.forEach((v, i) => {
        if (v.value !== undefined)
          ctx.addIssue({ code: 'custom', path: ['variants', i, 'value'], message: 'set valueType to give variants values' });
      });
      if (e.defaultValue !== undefined && e.defaultValue !== null)
        ctx.addIssue({ code: 'custom', path: ['defaultValue'], message: 'set valueType to give a default value' });
    }
    return;
  }
  if (e.variants !== undefined) {
    e.variants.forEach((v, i) => {
      const p = valueProblem(type, v.value);
      if (p !== null) ctx.addIssue({ code: 'custom', path: ['variants', i, 'value'], message: p });
    });
  }
  if (requireAll || e.defaultValue !== undefined) {
    const p = valueProblem(type, e.defaultValue);
    if (p !== null) ctx.addIssue({ code: 'custom', path: ['defaultValue'], message: p });
  }
}
