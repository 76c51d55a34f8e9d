import { describe, expect, it } from 'vitest';
import { EMPTY_ARM } from '../result/results-builder';
import { observedBaseline } from './metric-baseline';

describe('observedBaseline', () => {
  it('gives a conversion metric its rate and a mean metric its mean and sample SD', () => {
    expect(observedBaseline('conversion', { ...EMPTY_ARM, n: 200, sum: 30, sumSq: 30 })).toEqual({ kind: 'rate', rate: 0.15, n: 200 });
    // values 1, 2, 3, 4: mean 2.5, sample variance 5/3
    const mean = observedBaseline('mean', { ...EMPTY_ARM, n: 4, sum: 10, sumSq: 30 });
    expect(mean).toEqual({ kind: 'mean', mean: 2.5, sd: Math.sqrt(5 / 3), n: 4 });
  });

  it('has no baseline from fewer than 2 units or a ratio without denominator', () => {
    expect(observedBaseline('mean', { ...EMPTY_ARM, n: 1, sum: 3, sumSq: 9 })).toBeNull();
    expect(observedBaseline('ratio', { ...EMPTY_ARM, n: 10, sum: 5, sumSq: 5 })).toBeNull();
  });
});
