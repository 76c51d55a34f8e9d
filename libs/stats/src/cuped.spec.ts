import { describe, expect, it } from 'vitest';
import { mean, sampleVariance } from './arm';
import { cupedAdjust } from './cuped';
import { createRng } from './random';
import type { CovariateArmStats } from './types';

function arm(seed: number, n: number, lift: number, noise = 1): CovariateArmStats {
  const rng = createRng(seed);
  const s: CovariateArmStats = { n, sum: 0, sumSq: 0, covSum: 0, covSumSq: 0, crossSum: 0 };
  for (let i = 0; i < n; i++) {
    const x = 10 + 2 * rng.normal();
    const y = x + noise * rng.normal() + lift;
    s.sum += y;
    s.sumSq += y * y;
    s.covSum += x;
    s.covSumSq += x * x;
    s.crossSum += x * y;
  }
  return s;
}

describe('cupedAdjust', () => {
  const arms = [arm(1, 5000, 0), arm(2, 5000, 0.2)];
  const r = cupedAdjust(arms);

  it('removes the variance the pre-exposure covariate explains', () => {
    // y = x + noise with Var(x) = 4, Var(noise) = 1: R² = 0.8.
    expect(r.defined).toBe(true);
    expect(r.theta).toBeCloseTo(1, 1);
    for (const red of r.varianceReduction) expect(red).toBeCloseTo(0.8, 1);
    expect(sampleVariance(r.arms[1])).toBeLessThan(sampleVariance(arms[1]) / 4);
  });

  it('shifts every arm by the same θ so the difference moves only by θ times the covariate imbalance', () => {
    const rawDiff = arms[1].sum / arms[1].n - arms[0].sum / arms[0].n;
    const imbalance = arms[1].covSum / arms[1].n - arms[0].covSum / arms[0].n;
    expect(mean(r.arms[1]) - mean(r.arms[0])).toBeCloseTo(rawDiff - r.theta * imbalance, 10);
  });

  it('returns the unadjusted arms with a reason when the covariate is constant', () => {
    const flat = arms.map((a) => ({ ...a, covSum: 3 * a.n, covSumSq: 9 * a.n, crossSum: 3 * a.sum }));
    const u = cupedAdjust(flat);
    expect(u).toMatchObject({ defined: false, theta: 0, reason: 'covariate has zero variance' });
    expect(u.arms[1]).toEqual({ n: arms[1].n, sum: arms[1].sum, sumSq: arms[1].sumSq });
  });

  it('keeps an empty arm empty instead of producing NaN', () => {
    const withEmpty = cupedAdjust([...arms, { n: 0, sum: 0, sumSq: 0, covSum: 0, covSumSq: 0, crossSum: 0 }]);
    expect(withEmpty.defined).toBe(true);
    expect(withEmpty.arms[2]).toEqual({ n: 0, sum: 0, sumSq: 0 });
  });

  it('says why when there is nothing to estimate θ from', () => {
    expect(cupedAdjust([]).reason).toBe('no arms');
    expect(cupedAdjust([{ n: 1, sum: 1, sumSq: 1, covSum: 1, covSumSq: 1, crossSum: 1 }]).defined).toBe(false);
  });
});
