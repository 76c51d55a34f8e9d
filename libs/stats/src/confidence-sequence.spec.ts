import { describe, expect, it } from 'vitest';
import { csMultiplier, optimalRhoSquared, sequentialConfidenceSequence } from './confidence-sequence';
import { createRng } from './random';
import type { ArmStats } from './types';
import { welchTTest } from './welch';

const control: ArmStats = { n: 4000, sum: 40000, sumSq: 416000 };
const treatment: ArmStats = { n: 4000, sum: 40400, sumSq: 424100 };
const width = (ci: [number, number] | null) => (ci ? ci[1] - ci[0] : Number.NaN);

describe('sequentialConfidenceSequence', () => {
  it('is wider than the fixed-horizon interval: that is the price of peeking', () => {
    const cs = sequentialConfidenceSequence(control, treatment);
    expect(width(cs.ci)).toBeGreaterThan(width(welchTTest(control, treatment).ci));
  });

  it('is tightest at its planned sample size when tuned for it', () => {
    // ρ minimises the boundary at t = N*: tuning for a far smaller or larger N* widens it there.
    const at = (planned: number) => width(sequentialConfidenceSequence(control, treatment, { plannedSampleSize: planned }).ci);
    expect(at(4000)).toBeLessThan(at(400));
    expect(at(4000)).toBeLessThan(at(40000));
  });

  it('uses 5,000 units per arm as N* when no planned sample size is set', () => {
    const r = sequentialConfidenceSequence(control, treatment);
    expect(r.params.plannedSampleSize).toBe(5000);
    expect(r.params.rho).toBeCloseTo(Math.sqrt(optimalRhoSquared(0.05, 5000)), 15);
  });

  it('states its method and tuning so a reader can reproduce it', () => {
    const r = sequentialConfidenceSequence(control, treatment, { plannedSampleSize: 2000, relative: true, alpha: 0.1 });
    expect(r.method).toBe('confidence-sequence');
    expect(r.params).toMatchObject({ alpha: 0.1, plannedSampleSize: 2000, scale: 'relative', t: 4000 });
  });

  it('excludes zero exactly when its always-valid p-value is at or below alpha', () => {
    const rng = createRng(3);
    for (let i = 0; i < 500; i++) {
      const n = 50 + Math.floor(rng.uniform() * 5000);
      const shift = 0.1 * rng.normal();
      const arm = (m: number): ArmStats => ({ n, sum: n * m, sumSq: n * (m * m + 4) });
      const r = sequentialConfidenceSequence(arm(10), arm(10 + shift), { plannedSampleSize: 2000 });
      const excludes = r.ci !== null && (r.ci[0] > 0 || r.ci[1] < 0);
      expect(excludes).toBe(r.significant);
    }
  });

  it('never lets the p-value rise once evidence was seen', () => {
    const weak = sequentialConfidenceSequence(control, control);
    expect(weak.pValue).toBe(1);
    expect(sequentialConfidenceSequence(control, control, { previousPValue: 0.003 }).pValue).toBe(0.003);
  });

  it('reports p = 0 rather than overflowing for overwhelming evidence', () => {
    const r = sequentialConfidenceSequence(control, { n: 4000, sum: 80000, sumSq: 1616000 });
    expect(r.pValue).toBe(0);
    expect(r.significant).toBe(true);
  });

  it('has a boundary multiplier that grows only logarithmically past N*', () => {
    const k = optimalRhoSquared(0.05, 1);
    expect(csMultiplier(k, 0.05)).toBeCloseTo(3.034, 2);
    expect(csMultiplier(100 * k, 0.05) / csMultiplier(k, 0.05)).toBeLessThan(1.5);
  });
});
