import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { BUCKETS_PER_LAYER, type Attributes, type BucketRange } from '@strata/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyString } from '../test/arbitraries';
import { consecutiveRanges, experiment, layer, snapshot } from '@strata/test-support';
import { BUCKETS, compileSnapshot } from './compile';
import { evaluate, evaluateExperiment, layerBucket } from './evaluate';

/** Upper-tail p-value of a chi-square statistic. */
const pValue = (chi2: number, df: number): number => 1 - chisquareCdf(chi2, df);

const ids = (n: number, prefix = 'user-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('evaluate', () => {
  it('uses the same bucket count as the contracts', () => {
    expect(BUCKETS).toBe(BUCKETS_PER_LAYER);
  });

  it('gives the same output for the same input', () => {
    const c = compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { ranges: [{ start: 0, end: 5000 }] })]));
    const c2 = compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { ranges: [{ start: 0, end: 5000 }] })]));
    fc.assert(
      fc.property(anyString(), (id) => {
        expect(evaluate(c, id)).toEqual(evaluate(c, id));
        expect(evaluate(c2, id)).toEqual(evaluate(c, id));
        expect(evaluateExperiment(c, 'e', id)).toEqual(evaluateExperiment(c2, 'e', id));
      }),
      { numRuns: 200 },
    );
  });

  it('spreads 1,000,000 ids uniformly over 10,000 buckets (chi-square p > 0.001)', () => {
    const c = compileSnapshot(snapshot([layer('L', 'uniformity')], []));
    const counts = new Uint32Array(BUCKETS);
    const n = 1_000_000;
    for (let i = 0; i < n; i++) counts[layerBucket(c.layers[0], `u${i}`)]++;
    const expected = n / BUCKETS;
    let chi2 = 0;
    for (let b = 0; b < BUCKETS; b++) chi2 += (counts[b] - expected) ** 2 / expected;
    expect(pValue(chi2, BUCKETS - 1)).toBeGreaterThan(0.001);
  });

  it('splits 100,000 ids within ±1 percentage point of the variant weights', () => {
    const weights = [0.1, 0.2, 0.3, 0.4];
    const variants = weights.map((weight, i) => ({ key: `v${i}`, weight }));
    const c = compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { variants })]));
    const counts = new Map<string, number>();
    const n = 100_000;
    for (const id of ids(n)) {
      const a = evaluateExperiment(c, 'e', id);
      if (a) counts.set(a.variant, (counts.get(a.variant) ?? 0) + 1);
    }
    variants.forEach((v) => expect(Math.abs((counts.get(v.key) ?? 0) / n - v.weight)).toBeLessThan(0.01));
  });

  it('never puts a unit in two experiments of one layer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 2, maxLength: 6 }),
        fc.array(anyString(), { minLength: 1, maxLength: 50 }),
        (sizes, unitIds) => {
          const ranges = consecutiveRanges(sizes.map((s) => Math.min(s, Math.floor(BUCKETS / sizes.length))));
          const exps = ranges.map((r, i) => experiment(`e${i}`, 'L', { ranges: r }));
          const c = compileSnapshot(snapshot([layer('L')], exps));
          for (const id of unitIds) {
            expect(evaluate(c, id).length).toBeLessThanOrEqual(1);
            expect(exps.filter((e) => evaluateExperiment(c, e.key, id) !== null).length).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('assigns independently in two layers (chi-square contingency p > 0.001)', () => {
    const a = consecutiveRanges([2500, 2500, 2500, 2500]).map((r, i) => experiment(`a${i}`, 'A', { ranges: r }));
    const b = consecutiveRanges([3333, 3333, 3334]).map((r, i) => experiment(`b${i}`, 'B', { ranges: r }));
    const c = compileSnapshot(snapshot([layer('A'), layer('B')], [...a, ...b]));
    // Cells: experiment × variant in layer A against experiment × variant in layer B.
    const rowsOf = new Map<string, number>();
    const colsOf = new Map<string, number>();
    a.forEach((e, i) => ['control', 'treatment'].forEach((v, j) => rowsOf.set(`${e.key}/${v}`, i * 2 + j)));
    b.forEach((e, i) => ['control', 'treatment'].forEach((v, j) => colsOf.set(`${e.key}/${v}`, i * 2 + j)));
    const R = rowsOf.size;
    const C = colsOf.size;
    const table = new Float64Array(R * C);
    const n = 100_000;
    for (const id of ids(n)) {
      const [x, y] = evaluate(c, id);
      table[rowsOf.get(`${x.experiment}/${x.variant}`)! * C + colsOf.get(`${y.experiment}/${y.variant}`)!]++;
    }
    const rowSum = new Float64Array(R);
    const colSum = new Float64Array(C);
    for (let r = 0; r < R; r++) {
      for (let k = 0; k < C; k++) {
        rowSum[r] += table[r * C + k];
        colSum[k] += table[r * C + k];
      }
    }
    let chi2 = 0;
    for (let r = 0; r < R; r++) {
      for (let k = 0; k < C; k++) {
        const e = (rowSum[r] * colSum[k]) / n;
        chi2 += (table[r * C + k] - e) ** 2 / e;
      }
    }
    expect(pValue(chi2, (R - 1) * (C - 1))).toBeGreaterThan(0.001);
  });

  it('keeps every unit in its variant when traffic ramps up 10% → 50% → 100%', () => {
    const steps: BucketRange[][] = [
      [{ start: 0, end: 1000 }],
      [{ start: 0, end: 1000 }, { start: 3000, end: 7000 }],
      [{ start: 0, end: 10_000 }],
    ];
    const weights = [
      { key: 'control', weight: 0.34 },
      { key: 'treatment', weight: 0.66 },
    ];
    const cs = steps.map((ranges) => compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { ranges, variants: weights })])));
    const inAt = [0, 0, 0];
    const n = 50_000;
    let moved = 0;
    for (const id of ids(n)) {
      const [a10, a50, a100] = cs.map((c) => evaluateExperiment(c, 'e', id));
      if (a10 && a50?.variant !== a10.variant) moved++;
      if (a50 && a100?.variant !== a50.variant) moved++;
      if (a100 === null) moved++;
      [a10, a50, a100].forEach((a, i) => (inAt[i] += a ? 1 : 0));
    }
    expect(moved).toBe(0);
    expect(inAt[0] / n).toBeCloseTo(0.1, 1);
    expect(inAt[1] / n).toBeCloseTo(0.5, 1);
  });

  it('keeps held units in place for any ramp that only adds buckets', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { maxLength: 100 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(anyString(), { minLength: 1, maxLength: 30 }),
        (order, cut, unitIds) => {
          // Blocks of 100 buckets; the ramp adds blocks in `order`, the first `cut` come first.
          const toRanges = (blocks: number[]) => blocks.map((b) => ({ start: b * 100, end: b * 100 + 100 }));
          const before = compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { ranges: toRanges(order.slice(0, cut)) })]));
          const after = compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { ranges: toRanges(order) })]));
          for (const id of unitIds) {
            const was = evaluateExperiment(before, 'e', id);
            if (was) expect(evaluateExperiment(after, 'e', id)).toEqual(was);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('changes assignments when the salt changes (re-randomization)', () => {
    const v = (salt: string) => {
      const c = compileSnapshot(snapshot([layer('L')], [experiment('e', 'L', { salt })]));
      return ids(1000).map((id) => evaluateExperiment(c, 'e', id)?.variant);
    };
    const second = v('s2');
    const same = v('s1').filter((x, i) => x === second[i]).length;
    expect(same).toBeGreaterThan(400);
    expect(same).toBeLessThan(600);
  });

  it('agrees between evaluate and evaluateExperiment', () => {
    const exps = [
      experiment('a', 'A', { ranges: [{ start: 0, end: 4000 }] }),
      experiment('b', 'A', { ranges: [{ start: 4000, end: 6000 }], targeting: { attribute: 'country', operator: 'eq', value: 'DE' } }),
      experiment('s', 'A', { status: 'shipped', ranges: [], shippedVariant: 'treatment' }),
      experiment('c', 'B', { forcedVariants: [{ unitId: 'qa', variant: 'treatment', expiresAt: null }] }),
      experiment('o', 'missing-layer', { status: 'shipped', ranges: [], shippedVariant: 'control' }),
    ];
    const c = compileSnapshot(snapshot([layer('A'), layer('B')], exps));
    fc.assert(
      fc.property(fc.oneof(anyString(), fc.constant('qa')), fc.constantFrom<Attributes>({}, { country: 'DE' }, { country: 'FR' }), (id, attrs) => {
        const all = evaluate(c, id, attrs);
        const one = exps.map((e) => evaluateExperiment(c, e.key, id, attrs)).filter((x) => x !== null);
        expect(all).toEqual(one);
        expect(evaluate(c, id, attrs, ['c', 'b', 'nope'])).toEqual(['c', 'b'].map((k) => evaluateExperiment(c, k, id, attrs)).filter((x) => x !== null));
      }),
      { numRuns: 500 },
    );
  });
});

describe('evaluation order', () => {
  const now = new Date('2025-06-01T00:00:00Z');

  it('gives a forced variant first, even outside targeting and traffic', () => {
    const e = experiment('e', 'L', {
      ranges: [],
      targeting: { attribute: 'country', operator: 'eq', value: 'DE' },
      forcedVariants: [{ unitId: 'qa', variant: 'treatment', expiresAt: '2025-07-01T00:00:00Z' }],
    });
    const c = compileSnapshot(snapshot([layer('L')], [e]), now);
    expect(evaluateExperiment(c, 'e', 'qa')).toEqual({ experiment: 'e', layer: 'L', variant: 'treatment', reason: 'forced' });
    expect(evaluate(c, 'qa')).toEqual([{ experiment: 'e', layer: 'L', variant: 'treatment', reason: 'forced' }]);
  });

  it('ignores an expired forced variant', () => {
    const e = experiment('e', 'L', { ranges: [], forcedVariants: [{ unitId: 'qa', variant: 'treatment', expiresAt: '2025-05-01T00:00:00Z' }] });
    expect(evaluateExperiment(compileSnapshot(snapshot([layer('L')], [e]), now), 'e', 'qa')).toBeNull();
  });

  it('removes a forced unit from the other running experiments of its layer', () => {
    const exps = [
      experiment('a', 'L', { ranges: [], forcedVariants: [{ unitId: 'qa', variant: 'control', expiresAt: null }] }),
      experiment('b', 'L', { ranges: [{ start: 0, end: 10_000 }] }),
    ];
    const c = compileSnapshot(snapshot([layer('L')], exps), now);
    expect(evaluateExperiment(c, 'b', 'qa')).toBeNull();
    expect(evaluate(c, 'qa').map((a) => a.experiment)).toEqual(['a']);
    expect(evaluateExperiment(c, 'b', 'someone-else')?.reason).toBe('bucketed');
  });

  it('gives a shipped variant to everyone in targeting without a bucket check', () => {
    const e = experiment('e', 'L', {
      status: 'shipped',
      ranges: [],
      shippedVariant: 'treatment',
      targeting: { attribute: 'plan', operator: 'eq', value: 'pro' },
    });
    const c = compileSnapshot(snapshot([layer('L')], [e]));
    for (const id of ids(100)) {
      expect(evaluateExperiment(c, 'e', id, { plan: 'pro' })).toEqual({ experiment: 'e', layer: 'L', variant: 'treatment', reason: 'shipped' });
      expect(evaluateExperiment(c, 'e', id, { plan: 'free' })).toBeNull();
    }
  });

  it('assigns nobody outside targeting or outside traffic', () => {
    const e = experiment('e', 'L', { ranges: [{ start: 0, end: 5000 }], targeting: { attribute: 'country', operator: 'eq', value: 'DE' } });
    const c = compileSnapshot(snapshot([layer('L')], [e]));
    let inTraffic = 0;
    for (const id of ids(2000)) {
      expect(evaluateExperiment(c, 'e', id, { country: 'FR' })).toBeNull();
      const a = evaluateExperiment(c, 'e', id, { country: 'DE' });
      expect(a === null).toBe(layerBucket(c.layers[0], id) >= 5000);
      inTraffic += a ? 1 : 0;
    }
    expect(inTraffic).toBeGreaterThan(800);
  });

  it('returns null for an unknown experiment', () => {
    expect(evaluateExperiment(compileSnapshot(snapshot([], [])), 'nope', 'u')).toBeNull();
  });
});
