import type { Assignment, BatchAssignResult, VariantValue } from '@strata/contracts';

/*
 * Hot path: response bodies built from cached JSON fragments. The compiled snapshot shares one
 * frozen Assignment object per (experiment, variant, reason), so each is serialized once per
 * snapshot version and then only concatenated; JSON.stringify of the same 20 objects on every
 * request cost ~10x more. Entries go away with the compiled snapshot (WeakMap).
 */
const fragments = new WeakMap<Assignment, string>();

function fragment(a: Assignment): string {
  let json = fragments.get(a);
  if (json === undefined) {
    json = JSON.stringify(a);
    // Only frozen (shared) objects are worth caching; anything else is serialized each time.
    if (Object.isFrozen(a)) fragments.set(a, json);
  }
  return json;
}

function list(assignments: readonly Assignment[]): string {
  let out = '[';
  for (let i = 0; i < assignments.length; i++) {
    if (i > 0) out += ',';
    out += fragment(assignments[i]);
  }
  return `${out}]`;
}

/** `,"defaults":{…}` or nothing. Defaults are few (experiments with values the unit is not in). */
function defaultsJson(defaults: Record<string, VariantValue> | undefined): string {
  return defaults === undefined ? '' : `,"defaults":${JSON.stringify(defaults)}`;
}

/** `{"assignments":[…]}` (and `"defaults"` when given), byte-identical to JSON.stringify of the AssignResponse. */
export function assignResponseJson(assignments: readonly Assignment[], defaults?: Record<string, VariantValue>): string {
  return `{"assignments":${list(assignments)}${defaultsJson(defaults)}}`;
}

/** `{"results":[{"unitId","assignments"}…]}`, byte-identical to JSON.stringify of the BatchAssignResponse. */
export function batchResponseJson(results: readonly BatchAssignResult[]): string {
  let out = '{"results":[';
  for (let i = 0; i < results.length; i++) {
    if (i > 0) out += ',';
    out += `{"unitId":${JSON.stringify(results[i].unitId)},"assignments":${list(results[i].assignments)}${defaultsJson(results[i].defaults)}}`;
  }
  return `${out}]}`;
}
