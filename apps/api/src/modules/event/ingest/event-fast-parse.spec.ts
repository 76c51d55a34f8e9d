import { randomUUID } from 'node:crypto';
import { eventInputSchema } from '@strata/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastParseEvent } from './event-fast-parse';

/** Strings near every boundary the schema cares about. */
const tricky = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.constantFrom('', 'a', 'exp-1', 'Exp', '-x', 'a b', 'a\u0000b', '\ud800', '\udc00x', '🙂', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(200), 'x'.repeat(201), 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(1024), 'x'.repeat(1025)),
  fc.constantFrom(
    '2026-11-20T10:00:00Z',
    '2026-11-20T10:00:00.123456789Z',
    '2026-11-20T10:00Z',
    '2026-02-29T10:00:00Z',
    '2024-02-29T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-11-20T10:00:00+14:00',
    '2026-11-20T10:00:00+15:00',
    '2026-11-20T10:00:00-05:30',
    '2026-11-20T24:00:00Z',
    '0000-01-01T00:00:00Z',
  ),
  fc.constant(randomUUID()),
  fc.constant(randomUUID().toUpperCase()),
  fc.constant('00000000-0000-0000-0000-00000000000g'),
);
const scalar = fc.oneof(tricky, fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
const attrValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.constant(Array.from({ length: 101 }, () => 1)), fc.constant({ deep: 1 }));
const attrs = fc.oneof(
  fc.dictionary(tricky, attrValue, { maxKeys: 4 }),
  fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))),
  fc.constant(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]))),
  fc.constant([1, 2]),
  fc.constant('str'),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(fc.oneof(a, fc.constant(null)), { nil: undefined });
const event = fc.record(
  {
    id: maybe(tricky),
    type: fc.constantFrom('exposure', 'metric', 'other', 1),
    unitId: fc.oneof(tricky, fc.integer()),
    experiment: maybe(tricky),
    variant: maybe(tricky),
    name: maybe(tricky),
    value: maybe(fc.oneof(fc.double(), fc.string({ maxLength: 2 }))),
    timestamp: maybe(tricky),
    attributes: maybe(attrs),
    extra: maybe(fc.string({ maxLength: 3 })),
  },
  { requiredKeys: [] },
);

/** A valid event with one field replaced: most of the interesting boundaries in one step. */
const nearValid = fc
  .tuple(
    fc.constantFrom(
      { type: 'exposure', unitId: 'u-1', experiment: 'exp-1', variant: 'control' },
      { type: 'metric', unitId: 'u-1', name: 'purchase', value: 3 },
    ),
    fc.constantFrom('id', 'type', 'unitId', 'experiment', 'variant', 'name', 'value', 'timestamp', 'attributes', 'extra'),
    fc.oneof(tricky, scalar, attrs, fc.constant(undefined)),
  )
  .map(([base, field, value]) => ({ ...base, [field]: value }));

describe('fastParseEvent', () => {
  it('never accepts what the zod schema rejects, and agrees on the parsed value', () => {
    let fastAccepted = 0;
    let slowAccepted = 0;
    fc.assert(
      fc.property(fc.oneof(nearValid, nearValid, event, fc.anything()), (raw) => {
        const fast = fastParseEvent(raw);
        if (eventInputSchema.safeParse(raw).success) slowAccepted++;
        if (fast === null) return;
        fastAccepted++;
        const slow = eventInputSchema.safeParse(raw);
        expect(slow.success).toBe(true);
        if (slow.success) expect(JSON.parse(JSON.stringify(fast))).toEqual(JSON.parse(JSON.stringify(slow.data)));
      }),
      { numRuns: 20_000 },
    );
    // The generator reaches valid events often enough for the comparison to mean something.
    expect(fastAccepted).toBeGreaterThan(1000);
    expect(fastAccepted).toBeGreaterThan(slowAccepted * 0.5);
  });

  it('takes the fast path for ordinary valid events', () => {
    const valid = [
      { id: randomUUID(), type: 'exposure', unitId: 'user-1', experiment: 'checkout', variant: 'control', timestamp: '2026-11-20T10:00:00.123Z' },
      { type: 'metric', unitId: 'user-1', name: 'purchase', value: 12.5, attributes: { plan: 'pro', tags: ['a', 1, true, null] } },
      { type: 'metric', unitId: 'ユーザー🙂', name: 'page view', value: null, timestamp: '2026-11-20T10:00:00+01:00', attributes: null },
    ];
    for (const v of valid) expect(fastParseEvent(v)).not.toBeNull();
  });
});
