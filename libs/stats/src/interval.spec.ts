import { describe, expect, it } from 'vitest';
import { sequentialConfidenceSequence } from './confidence-sequence';
import { intervalAt } from './interval';
import { msprt } from './msprt';
import { twoProportionZTest } from './proportions';
import { relativeLiftDelta } from './relative-lift';
import type { ArmStats, Estimate } from './types';
import { welchTTest } from './welch';

const c: ArmStats = { n: 900, sum: 270, sumSq: 270 };
const t: ArmStats = { n: 1100, sum: 370, sumSq: 370 };

describe('intervalAt', () => {
  it.each([
    ['welch-t', (alpha: number) => welchTTest(c, t, { alpha })],
    ['relative-delta', (alpha: number) => relativeLiftDelta(c, t, { alpha })],
    ['two-proportion-z', (alpha: number) => twoProportionZTest(c, t, { alpha })],
    ['confidence-sequence', (alpha: number) => sequentialConfidenceSequence(c, t, { alpha, tuningAlpha: 0.05 })],
    ['msprt', (alpha: number) => msprt(c, t, { alpha, tau2: 0.001 })],
  ] as Array<[string, (alpha: number) => Estimate]>)('rebuilds the %s interval a fresh call at that alpha would give', (_, run) => {
    const at01 = intervalAt(run(0.05), 0.01)!;
    const fresh = run(0.01).ci!;
    expect(at01[0]).toBeCloseTo(fresh[0], 12);
    expect(at01[1]).toBeCloseTo(fresh[1], 12);
  });

  it('returns null for an undefined estimate or an invalid alpha', () => {
    expect(intervalAt(welchTTest({ n: 0, sum: 0, sumSq: 0 }, t), 0.01)).toBeNull();
    expect(intervalAt(welchTTest(c, t), 1.5)).toBeNull();
  });
});
