import type { EvaluationContext, EvaluationContextValue, FlagMetadata, FlagValueType, JsonValue } from '@openfeature/core';
import type { StrataClient } from '../client';
import type { Assignment, Attributes, AttributeValue, Lookup, ValueType } from '../types';

/*
 * The mapping from Strata to OpenFeature, shared by the server and web providers (each wraps it
 * with its own SDK's enums; this file imports types only, so neither SDK is loaded by the other).
 *
 * flag key → experiment key; `targetingKey` → unit id; every other context field that is an
 * attribute value (string, number, boolean, null, arrays of those; a Date as ISO-8601) → a unit
 * attribute for targeting. Values: an experiment with a valueType answers its variant's value (or
 * its default for units not in it) for the matching flag type (json → object); an experiment
 * without values answers the variant key as a string flag.
 */

/** The spec's error codes this provider uses (values of OpenFeature's ErrorCode enum). */
export type StrataErrorCode = 'PROVIDER_NOT_READY' | 'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'TARGETING_KEY_MISSING' | 'GENERAL';
/** Standard resolution reasons this provider uses. */
export type StrataReason = 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'STATIC' | 'ERROR';

export interface NeutralDetails<T> {
  value: T;
  variant?: string;
  reason: StrataReason;
  errorCode?: StrataErrorCode;
  errorMessage?: string;
  flagMetadata: FlagMetadata;
}

const FLAG_TYPE: Record<ValueType, FlagValueType> = { boolean: 'boolean', string: 'string', number: 'number', json: 'object' };

/** The attributes of an evaluation context (targetingKey excluded); nested objects are not attributes and are left out. */
export function contextAttributes(context: EvaluationContext): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(context)) {
    if (k === 'targetingKey' || v === undefined) continue;
    const a = attributeValue(v);
    if (a !== undefined) out[k] = a;
    else if (Array.isArray(v)) {
      const items = v.map(attributeValue);
      if (items.every((x): x is AttributeValue => x !== undefined && !Array.isArray(x))) out[k] = items;
    }
  }
  return out;
}

function attributeValue(v: EvaluationContextValue): AttributeValue | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  return undefined;
}

function error<T>(defaultValue: T, errorCode: StrataErrorCode, errorMessage: string, flagMetadata: FlagMetadata = {}): NeutralDetails<T> {
  return { value: defaultValue, reason: 'ERROR', errorCode, errorMessage, flagMetadata };
}

function metadata(flagKey: string, a: Assignment | null, valueType: ValueType | null): FlagMetadata {
  const m: FlagMetadata = { experiment: flagKey };
  if (valueType !== null) m.valueType = valueType;
  if (a !== null) {
    m.layer = a.layer;
    // Strata's own reason: the exposure hook logs only `bucketed` assignments.
    m.assignmentReason = a.reason;
  }
  return m;
}

function reasonOf(a: Assignment): StrataReason {
  if (a.reason === 'bucketed') return 'SPLIT';
  return 'TARGETING_MATCH'; // forced (an individual target) or shipped (everyone in targeting)
}

/** Resolves one flag from a lookup (synchronous: the web provider needs that). */
export function resolveFromLookup<T>(
  found: Lookup,
  flagKey: string,
  type: FlagValueType,
  defaultValue: T,
  remote: boolean,
): NeutralDetails<T> {
  if (found.status === 'not_ready')
    return error(defaultValue, 'PROVIDER_NOT_READY', 'Strata has no configuration (or no answer for this unit) yet');
  if (found.status === 'unknown') {
    // A remote reply lists assignments and the defaults of experiments with values only: an
    // experiment without values that gave this unit nothing is not in it either, so remote mode
    // cannot tell "unknown" from "not in it" and answers the default rather than an error.
    if (remote) return { value: defaultValue, reason: 'DEFAULT', flagMetadata: { experiment: flagKey } };
    return error(defaultValue, 'FLAG_NOT_FOUND', `no experiment "${flagKey}" in the Strata configuration (unknown, draft or stopped)`);
  }
  const assignment = found.status === 'assigned' ? found.assignment : null;
  const flagMetadata = metadata(flagKey, assignment, found.valueType);
  if (found.valueType === null) {
    // Without values, the flag is the variant key: a string flag.
    if (type !== 'string')
      return error(
        defaultValue,
        'TYPE_MISMATCH',
        `"${flagKey}" has no values: resolve it as a string flag (the variant key)`,
        flagMetadata,
      );
    if (assignment === null)
      return { value: defaultValue, reason: found.status === 'default' && found.disabled ? 'DISABLED' : 'DEFAULT', flagMetadata };
    return { value: assignment.variant as T, variant: assignment.variant, reason: reasonOf(assignment), flagMetadata };
  }
  const expected = FLAG_TYPE[found.valueType];
  // A string is valid JSON too: an object flag takes any JSON value of a json experiment.
  if (expected !== type)
    return error(defaultValue, 'TYPE_MISMATCH', `"${flagKey}" has ${found.valueType} values, not ${type}`, flagMetadata);
  if (found.value === undefined) return { value: defaultValue, reason: 'DEFAULT', flagMetadata };
  if (assignment === null)
    return { value: found.value as T, reason: found.status === 'default' && found.disabled ? 'DISABLED' : 'DEFAULT', flagMetadata };
  return { value: found.value as T, variant: assignment.variant, reason: reasonOf(assignment), flagMetadata };
}

/** The whole resolution: targeting key check, lookup, mapping. */
export function resolveSync<T>(
  client: StrataClient,
  flagKey: string,
  type: FlagValueType,
  defaultValue: T,
  context: EvaluationContext,
): NeutralDetails<T> {
  const unitId = context.targetingKey;
  if (typeof unitId !== 'string' || unitId === '')
    return error(defaultValue, 'TARGETING_KEY_MISSING', 'the evaluation context needs a targetingKey (the unit id)');
  try {
    return resolveFromLookup(
      client.lookup(flagKey, unitId, contextAttributes(context)),
      flagKey,
      type,
      defaultValue,
      client.mode === 'remote',
    );
  } catch (e) {
    return error(defaultValue, 'GENERAL', e instanceof Error ? e.message : String(e));
  }
}

/** Waits for the configuration (local) or the unit's reply (remote) at most the client's timeout. */
export async function resolveAsync<T>(
  client: StrataClient,
  flagKey: string,
  type: FlagValueType,
  defaultValue: T,
  context: EvaluationContext,
): Promise<NeutralDetails<T>> {
  const unitId = context.targetingKey;
  if (typeof unitId !== 'string' || unitId === '')
    return error(defaultValue, 'TARGETING_KEY_MISSING', 'the evaluation context needs a targetingKey (the unit id)');
  const found = await client.lookupAsync(flagKey, unitId, contextAttributes(context));
  return resolveFromLookup(found, flagKey, type, defaultValue, client.mode === 'remote');
}

/**
 * The exposure for an evaluation, from the details the SDK hands its `after` hooks: only units
 * bucketed into a running experiment are exposures (forced units and shipped winners are not).
 */
export function exposureOf(flagKey: string, details: { variant?: string; flagMetadata: FlagMetadata }): Assignment | null {
  const m = details.flagMetadata;
  if (m.assignmentReason !== 'bucketed' || details.variant === undefined || typeof m.layer !== 'string') return null;
  return { experiment: flagKey, layer: m.layer, variant: details.variant, reason: 'bucketed' };
}

/** OpenFeature tracking → a Strata metric event: `value` is the metric value, the other primitive fields its properties. */
export function trackEvent(
  client: StrataClient,
  eventName: string,
  context: EvaluationContext,
  details: Record<string, unknown> | undefined,
): void {
  const unitId = context.targetingKey;
  if (typeof unitId !== 'string' || unitId === '') return;
  const properties: Attributes = {};
  let value: number | undefined;
  for (const [k, v] of Object.entries(details ?? {})) {
    if (k === 'value') value = typeof v === 'number' ? v : undefined;
    else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') properties[k] = v;
  }
  client.track(unitId, eventName, value, Object.keys(properties).length > 0 ? properties : undefined);
}

export type { JsonValue };
