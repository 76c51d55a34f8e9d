import type { Attributes } from '@strata/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyString } from '../test/arbitraries';
import { experiment, layer, snapshot } from '@strata/test-support';
import { compileSnapshot } from './compile';
import { evaluateExperiment, layerBucket } from './evaluate';
import { explain } from './explain';

const now = new Date('2025-06-01T00:00:00Z');
const exps = [
  experiment('a', 'L', { ranges: [{ start: 0, end: 3000 }] }),
  experiment('b', 'L', {
    ranges: [{ start: 3000, end: 6000 }],
    targeting: { match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['DE', 'AT'] }, { attribute: 'age', operator: 'gte', value: 18 }] },
    forcedVariants: [{ unitId: 'qa', variant: 'treatment', expiresAt: '2025-07-01T00:00:00Z' }],
  }),
  experiment('s', 'L', { status: 'shipped', ranges: [], shippedVariant: 'treatment' }),
  experiment('lost', 'nowhere'),
];
const raw = snapshot([layer('L')], exps);
const c = compileSnapshot(raw, now);
const idIn = (lo: number, hi: number): string => {
  for (let i = 0; ; i++) {
    const b = layerBucket(c.layers[0], `u${i}`);
    if (b >= lo && b < hi) return `u${i}`;
  }
};
const adult = { country: 'DE', age: 30 };

describe('explain', () => {
  it('says an unknown, draft or stopped experiment is not in the snapshot', () => {
    expect(explain(c, 'u', {}, 'nope')).toMatchObject({ outcome: 'unknown_experiment', assignment: null });
  });

  it('says a forced variant applies, with its expiry', () => {
    const e = explain(c, 'qa', {}, 'b');
    expect(e).toMatchObject({ outcome: 'forced', forcedExpiresAt: '2025-07-01T00:00:00Z', assignment: { variant: 'treatment', reason: 'forced' } });
    expect(e.message).toContain('forced');
  });

  it('points at the targeting rule that failed, by path', () => {
    const e = explain(c, idIn(3000, 6000), { country: 'DE', age: 12 }, 'b');
    expect(e.outcome).toBe('targeting_failed');
    expect(e.targeting).toEqual({ path: [1], rule: { attribute: 'age', operator: 'gte', value: 18 }, actual: 12 });
    expect(e.message).toContain('rules[1]');
  });

  it('names the bucket and its holder when another experiment holds it', () => {
    const id = idIn(0, 3000);
    const e = explain(c, id, adult, 'b');
    expect(e).toMatchObject({ outcome: 'bucket_held_by_other', heldBy: 'a', bucket: layerBucket(c.layers[0], id) });
  });

  it('says when no experiment holds the bucket', () => {
    expect(explain(c, idIn(6000, 10_000), {}, 'a').outcome).toBe('bucket_not_held');
  });

  it('gives the draw and the variant for a bucketed unit', () => {
    const e = explain(c, idIn(0, 3000), {}, 'a');
    expect(e.outcome).toBe('bucketed');
    expect(e.u).toBeGreaterThanOrEqual(0);
    expect(e.u).toBeLessThan(1);
    expect(e.assignment?.variant).toBe(e.u! < 0.5 ? 'control' : 'treatment');
    expect(e.message).toMatch(/u=0\.\d{4} → "(control|treatment)"/);
  });

  it('explains shipped experiments and experiments whose layer is missing', () => {
    expect(explain(c, 'x', {}, 's')).toMatchObject({ outcome: 'shipped', assignment: { reason: 'shipped' } });
    expect(explain(c, 'x', {}, 'lost').outcome).toBe('not_running');
  });

  it('accepts a raw snapshot as well as a compiled one', () => {
    const id = idIn(0, 3000);
    expect(explain(raw, id, {}, 'a').assignment).toEqual(explain(c, id, {}, 'a').assignment);
  });

  it('always reports the assignment evaluateExperiment returns', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyString(), fc.constant('qa')),
        fc.constantFrom<Attributes>({}, adult, { country: 'FR', age: 40 }),
        fc.constantFrom('a', 'b', 's', 'lost', 'nope'),
        (id, attrs, key) => {
          expect(explain(c, id, attrs, key).assignment).toEqual(evaluateExperiment(c, key, id, attrs));
        },
      ),
      { numRuns: 300 },
    );
  });
});
