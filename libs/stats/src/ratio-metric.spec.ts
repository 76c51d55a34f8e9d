import { describe, expect, it } from 'vitest';
import { expectAllFinite } from '../test/helpers';
import { ratioArmMoments, ratioMetric } from './ratio-metric';
import { ratioConfidenceSequence, ratioMsprt } from './ratio-sequential';
import type { RatioArmStats } from './types';

// Revenue per session: 4 users with (revenue, sessions) = (10, 2), (0, 1), (30, 3), (20, 4).
const control: RatioArmStats = { n: 4, sumNum: 60, sumNumSq: 1400, sumDen: 10, sumDenSq: 30, sumNumDen: 190 };

describe('ratioMetric', () => {
  it('estimates Σnum/Σden per arm rather than the mean of per-user ratios', () => {
    const m = ratioArmMoments(control);
    expect(m.ok && m.ratio).toBe(6);
  });

  it('is zero with a defined interval when both arms are identical', () => {
    const r = ratioMetric(control, control);
    expect(r).toMatchObject({ defined: true, estimate: 0, significant: false });
    expect(r.ci![0]).toBeLessThan(0);
  });

  it.each([
    [{ ...control, sumDen: 0, sumDenSq: 0, sumNumDen: 0 }, 'zero denominator'],
    [{ ...control, n: 1 }, 'n < 2'],
    [{ ...control, n: 0 }, 'empty arm'],
    [{ ...control, sumNum: Number.POSITIVE_INFINITY }, 'non-finite'],
  ])('returns a reason for a degenerate control arm (%#)', (bad, reason) => {
    const r = ratioMetric(bad, control);
    expectAllFinite(r);
    expect(r.defined).toBe(false);
    expect(r.reason).toContain(reason);
  });

  it('refuses a relative lift over a zero control ratio', () => {
    const zero = { ...control, sumNum: 0, sumNumSq: 0, sumNumDen: 0 };
    expect(ratioMetric(zero, control, { relative: true }).reason).toContain('zero control ratio');
  });

  it('gives the sequential ratio methods the same defined:false reasons', () => {
    const bad = { ...control, sumDen: 0, sumDenSq: 0, sumNumDen: 0 };
    for (const r of [ratioConfidenceSequence(bad, control), ratioMsprt(control, bad, { relative: true })]) {
      expectAllFinite(r);
      expect(r.defined).toBe(false);
      expect(r.reason).toContain('zero denominator');
    }
  });
});
