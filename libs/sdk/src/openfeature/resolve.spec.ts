import { describe, expect, it } from 'vitest';
import { contextAttributes, exposureOf, resolveFromLookup } from './resolve';

describe('OpenFeature mapping', () => {
  it('turns the evaluation context into unit attributes', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect(
      contextAttributes({
        targetingKey: 'u',
        country: 'DE',
        age: 30,
        pro: true,
        none: null,
        tags: ['a', 1],
        signedUp: at,
        nested: { a: 1 },
        mixed: ['a', { b: 1 }],
      }),
    ).toEqual({
      country: 'DE',
      age: 30,
      pro: true,
      none: null,
      tags: ['a', 1],
      signedUp: '2026-01-02T03:04:05.000Z',
    });
  });

  it('maps lookups to values, reasons and error codes', () => {
    const a = { experiment: 'e', layer: 'l', variant: 'treatment', reason: 'bucketed' as const, value: 3 };
    expect(resolveFromLookup({ status: 'assigned', assignment: a, valueType: 'number', value: 3 }, 'e', 'number', 0, false)).toEqual({
      value: 3,
      variant: 'treatment',
      reason: 'SPLIT',
      flagMetadata: { experiment: 'e', layer: 'l', valueType: 'number', assignmentReason: 'bucketed' },
    });
    expect(resolveFromLookup({ status: 'default', valueType: 'number', value: 1, disabled: true }, 'e', 'number', 0, false)).toMatchObject({
      value: 1,
      reason: 'DISABLED',
    });
    expect(resolveFromLookup({ status: 'unknown' }, 'e', 'number', 0, false)).toMatchObject({
      value: 0,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(resolveFromLookup({ status: 'unknown' }, 'e', 'number', 0, true)).toMatchObject({ value: 0, reason: 'DEFAULT' });
    expect(resolveFromLookup({ status: 'not_ready' }, 'e', 'number', 0, false)).toMatchObject({ errorCode: 'PROVIDER_NOT_READY' });
    expect(
      resolveFromLookup(
        { status: 'assigned', assignment: { ...a, reason: 'forced' }, valueType: 'number', value: 3 },
        'e',
        'string',
        'x',
        false,
      ),
    ).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
  });

  it('sees an exposure only in bucketed evaluations', () => {
    expect(exposureOf('e', { variant: 'b', flagMetadata: { layer: 'l', assignmentReason: 'bucketed' } })).toEqual({
      experiment: 'e',
      layer: 'l',
      variant: 'b',
      reason: 'bucketed',
    });
    expect(exposureOf('e', { variant: 'b', flagMetadata: { layer: 'l', assignmentReason: 'forced' } })).toBeNull();
    expect(exposureOf('e', { flagMetadata: {} })).toBeNull();
  });
});
