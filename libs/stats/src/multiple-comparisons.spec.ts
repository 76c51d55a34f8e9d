import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, bonferroni } from './multiple-comparisons';
import { createRng } from './random';

describe('benjaminiHochberg', () => {
  it('rejects a hypothesis exactly when its raw p-value is at or below ciAlpha (so intervals agree)', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 200; trial++) {
      const m = 1 + Math.floor(rng.uniform() * 60);
      const ps = Array.from({ length: m }, () => (rng.uniform() < 0.3 ? rng.uniform() * 0.01 : rng.uniform()));
      const r = benjaminiHochberg(ps, 0.05);
      ps.forEach((p, i) => expect(r.rejected[i]).toBe(p <= r.ciAlpha));
    }
  });

  it('uses R·alpha/m as the interval level, and alpha/m when nothing is rejected', () => {
    expect(benjaminiHochberg([0.001, 0.002, 0.5, 0.9], 0.05).ciAlpha).toBeCloseTo((2 * 0.05) / 4, 15);
    expect(benjaminiHochberg([0.5, 0.9], 0.05).ciAlpha).toBeCloseTo(0.025, 15);
  });

  it('treats missing or NaN p-values as 1 instead of propagating them', () => {
    const r = benjaminiHochberg([Number.NaN, 0.01], 0.05);
    expect(r.adjustedPValues).toEqual([1, 0.02]);
  });

  it('handles an empty family', () => {
    expect(benjaminiHochberg([])).toMatchObject({ adjustedPValues: [], rejected: [], ciAlpha: 0.05 });
  });
});

describe('bonferroni', () => {
  it('multiplies by m, caps at 1, and builds intervals at alpha/m', () => {
    const r = bonferroni([0.01, 0.3, 0.001], 0.05);
    expect(r.adjustedPValues[0]).toBeCloseTo(0.03, 15);
    expect(r.adjustedPValues[1]).toBeCloseTo(0.9, 15);
    expect(r.rejected).toEqual([true, false, true]);
    expect(r.ciAlpha).toBeCloseTo(0.05 / 3, 15);
    expect(bonferroni([0.6, 0.7]).adjustedPValues).toEqual([1, 1]);
  });
});
