import { describe, expect, it } from 'vitest';
import { srmTest } from './srm';

describe('srmTest', () => {
  it('flags a 50/50 experiment that received 10,000 vs 10,600 units', () => {
    expect(srmTest([10000, 10600], [50, 50]).flagged).toBe(true);
  });

  it('does not flag ordinary noise around the configured weights', () => {
    const r = srmTest([9030, 968], [0.9, 0.1]);
    expect(r.flagged).toBe(false);
    expect(r.expected).toEqual([8998.2, 999.8000000000001]);
  });

  it('keeps precision for astronomically small p-values', () => {
    // χ² ≈ 679 on 1 df: p ≈ 1e-149, far below where 1 − cdf collapses to 0.
    const r = srmTest([100000, 112000], [1, 1]);
    expect(r.pValue).toBeGreaterThan(1e-160);
    expect(r.pValue).toBeLessThan(1e-140);
  });

  it.each([
    [[10, 10], [1], 'differ in length'],
    [[10], [1], 'fewer than 2 arms'],
    [[0, 0], [1, 1], 'no units'],
    [[5, 5], [1, 0], 'weight must be positive'],
    [[5, -1], [1, 1], 'negative count'],
  ])('returns a reason instead of a statistic for counts %j and weights %j', (counts, weights, reason) => {
    const r = srmTest(counts, weights);
    expect(r).toMatchObject({ defined: false, pValue: 1, flagged: false });
    expect(r.reason).toContain(reason);
  });
});
