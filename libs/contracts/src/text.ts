import type { z } from 'zod';

/**
 * PostgreSQL text cannot hold NUL, and jsonb rejects unpaired UTF-16 surrogates (the audit log and
 * event attributes are jsonb). A string with either would fail its INSERT as a 500, so every string
 * the API may store is checked up front and refused as a 400 naming the field.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL or unpaired surrogates';

/** `schema` (a string schema with its bounds) that also refuses what PostgreSQL cannot store. */
export function storable<S extends z.ZodType<string>>(schema: S) {
  return schema.refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);
}
