import { describe, expect, it } from 'vitest';
import { sequentialConfidenceSequence, optimalRhoSquared } from './confidence-sequence';
import { msprt } from './msprt';
import type { ArmStats } from './types';

const control: ArmStats = { n: 3000, sum: 30000, sumSq: 312000 };
const treatment: ArmStats = { n: 3000, sum: 30300, sumSq: 318000 };

describe('msprt', () => {
  it('coincides with the confidence sequence when τ² equals ρ²σ̂² (both are the normal-mixture boundary)', () => {
    const cs = sequentialConfidenceSequence(control, treatment, { plannedSampleSize: 2000 });
    const v = cs.standardError ** 2;
    const tau2 = optimalRhoSquared(0.05, 2000) * v * (cs.params.t as number);
    const m = msprt(control, treatment, { tau2 });
    expect(m.pValue).toBeCloseTo(cs.pValue, 12);
    expect(m.ci![0]).toBeCloseTo(cs.ci![0], 12);
  });

  it('keeps p_n = min(p_{n-1}, 1/Λ_n)', () => {
    const fresh = msprt(control, treatment);
    expect(msprt(control, treatment, { previousPValue: fresh.pValue / 2 }).pValue).toBe(fresh.pValue / 2);
    expect(msprt(control, treatment, { previousPValue: 0.9 }).pValue).toBe(Math.min(0.9, fresh.pValue));
  });

  it('says where τ² came from and what Λ was', () => {
    expect(msprt(control, treatment).params).toMatchObject({ tau2Source: 'planned-mde', scale: 'absolute' });
    const given = msprt(control, treatment, { tau2: 0.04 });
    expect(given.params).toMatchObject({ tau2: 0.04, tau2Source: 'given' });
    expect(Math.exp(-(given.params.logLikelihoodRatio as number))).toBeCloseTo(given.pValue, 12);
  });

  it('excludes zero from its interval exactly when 1/Λ ≤ alpha', () => {
    for (const lift of [0, 50, 100, 150, 200, 300, 500]) {
      const r = msprt(control, { ...treatment, sum: 30000 + lift }, { tau2: 0.01 });
      const excludes = r.ci !== null && (r.ci[0] > 0 || r.ci[1] < 0);
      expect(excludes).toBe(r.significant);
    }
  });

  it('reports p = 0 instead of overflowing Λ for overwhelming evidence', () => {
    const r = msprt(control, { n: 3000, sum: 90000, sumSq: 2712000 }, { tau2: 1 });
    expect(r.pValue).toBe(0);
    expect(Number.isFinite(r.params.logLikelihoodRatio as number)).toBe(true);
  });
});
