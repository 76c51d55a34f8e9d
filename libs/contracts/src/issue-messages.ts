import type { z } from 'zod';

/**
 * The one place that turns zod's developer text ("Too small: expected string to have >=1 characters")
 * into what a person filling a form can act on ("Enter a name"). Passed as the per-parse error map,
 * so a message written on a schema (`.regex(re, 'must be …')`) still wins; anything not mapped here
 * falls back to zod's own text.
 */

/** How to name a field in a sentence, by the last segment of its path. */
const FIELD_NOUNS: Record<string, string> = {
  name: 'a name',
  key: 'a key',
  eventName: 'an event name',
  denominatorEventName: 'a denominator event name',
  layer: 'a layer',
  weight: 'a weight',
  traffic: 'a traffic share',
  unitId: 'a unit id',
  variant: 'a variant',
  attribute: 'an attribute',
  value: 'a value',
  reason: 'a reason',
  description: 'a description',
  hypothesis: 'a hypothesis',
  salt: 'a salt',
  plannedSampleSize: 'a planned sample size',
};

function noun(path: readonly PropertyKey[]): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') return FIELD_NOUNS[seg] ?? 'a value';
  }
  return 'a value';
}

const n = (x: number | bigint): string => Number(x).toLocaleString('en-US');
const plural = (x: number | bigint, one: string, many: string): string => `${n(x)} ${Number(x) === 1 ? one : many}`;

/** A human message for one zod issue, or undefined to keep zod's (for codes this does not know). */
export function humanIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const path = issue.path ?? [];
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `Enter ${noun(path)}`;
      if (issue.expected === 'number' || issue.expected === 'int') return 'Enter a number';
      if (issue.expected === 'string') return 'Enter text';
      if (issue.expected === 'boolean') return 'Choose yes or no';
      if (issue.expected === 'array') return 'Enter a list';
      return `Enter ${noun(path)}`;
    case 'too_small': {
      const min = issue.minimum;
      if (issue.origin === 'string')
        return Number(min) <= 1 ? `Enter ${noun(path)}` : `Use at least ${plural(min, 'character', 'characters')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `Add at least ${plural(min, 'item', 'items')}`;
      return issue.inclusive ? `Enter ${n(min)} or more` : `Enter a number greater than ${n(min)}`;
    }
    case 'too_big': {
      const max = issue.maximum;
      if (issue.origin === 'string') return `Use at most ${plural(max, 'character', 'characters')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `Use at most ${plural(max, 'item', 'items')}`;
      return issue.inclusive ? `Enter ${n(max)} or less` : `Enter a number less than ${n(max)}`;
    }
    case 'not_multiple_of':
      return Number(issue.divisor) === 1 ? 'Enter a whole number' : `Enter a multiple of ${n(issue.divisor)}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `Must be ${String(issue.values[0])}` : `Choose one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'datetime') return 'Enter a date and time (ISO 8601, e.g. 2026-12-01T09:00:00Z)';
      if (issue.format === 'url') return 'Enter a URL';
      if (issue.format === 'email') return 'Enter an email address';
      return undefined;
    case 'unrecognized_keys':
      return `Unknown ${issue.keys.length === 1 ? 'field' : 'fields'}: ${issue.keys.join(', ')}`;
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      // Custom checks carry their own message; the structural ones read fine from the nested issues.
      return undefined;
  }
}
