import { describe, expect, it } from 'vitest';
import { capThresholds, capValue, percentile, winsorize } from './winsorize';

describe('winsorize', () => {
  const revenue = [...Array.from({ length: 999 }, (_, i) => i % 10), 10000];

  it('caps a single whale at the 99th percentile so it cannot dominate the mean', () => {
    const capped = winsorize(revenue, 0.99);
    expect(Math.max(...capped)).toBe(9);
    expect(capped.slice(0, 999)).toEqual(revenue.slice(0, 999));
  });

  it('caps from below too when a lower percentile is given', () => {
    const t = capThresholds([-50, 1, 2, 3, 4, 5, 6, 7, 8, 100], 0.9, 0.1);
    expect(t.lower).toBeCloseTo(-50 + 0.9 * 51, 12);
    expect(capValue(-50, t)).toBe(t.lower);
    expect(capValue(100, t)).toBe(t.upper);
  });

  it('interpolates percentiles linearly like numpy', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('returns finite output for empty and non-finite input', () => {
    expect(winsorize([], 0.99)).toEqual([]);
    expect(percentile([], 0.5)).toBe(0);
    expect(winsorize([1, Number.NaN, Number.POSITIVE_INFINITY, 3], 1)).toEqual([1, 1, 3, 3]);
  });
});
