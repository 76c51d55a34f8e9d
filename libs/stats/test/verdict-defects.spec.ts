import { describe, expect, it } from 'vitest';
import {
  analyzeComparison,
  armFromCentred,
  combineMoments,
  effectVerdict,
  guardrailVerdict,
  momentsOfValues,
  msprt,
  resultsTable,
  sampleVariance,
  sequentialConfidenceSequence,
  StatsInputError,
  twoProportionZTest,
  welchTTest,
  winsorize,
  winsorizationFor,
  capThresholds,
  capValue,
  type ArmStats,
} from '../src';
import { expectRelClose } from './helpers';
import { verdictReference as ref } from './reference/verdict-reference-values';

/** Issue 15, defects 3–7: each block reproduces the review's case and asserts the fixed behaviour. */

const conv = (x: number, n: number): ArmStats => ({ n, sum: x, sumSq: x });

describe('defect 3: negative control mean', () => {
  // Profit per unit −10 → −5 (sd 4, 5,000 per arm): better for an "increase" metric.
  const control: ArmStats = { n: 5000, sum: -50000, sumSq: 5000 * (100 + 16) };
  const treatment: ArmStats = { n: 5000, sum: -25000, sumSq: 5000 * (25 + 16) };
  const r = analyzeComparison(control, treatment);

  it('reports +50% (the change divided by |control mean|), not −50%', () => {
    expect(r.fixed.relative.estimate).toBeCloseTo(0.5, 10);
    expect(r.sequential.relative.estimate).toBeCloseTo(0.5, 10);
    expect(r.sequential.relative.ci?.[0]).toBeGreaterThan(0);
  });

  it('calls it a benefit, never stop_for_harm', () => {
    expect(effectVerdict(r.sequential, 'increase').outcome).toBe('benefit');
    expect(guardrailVerdict(r.sequential, 'increase').status).toBe('ok');
    expect(effectVerdict(r.sequential, 'decrease').outcome).toBe('harm');
  });
});

describe('defect 4: zero baseline', () => {
  // Crashes: 0 of 50,000 in control vs 60 of 50,000 in treatment.
  const t = resultsTable([
    { name: 'crashes', kind: 'proportion', control: conv(0, 50000), variants: [{ name: 'B', stats: conv(60, 50000) }] },
  ]);
  const row = t.comparisons[0];

  it('leaves the relative lift undefined with a reason', () => {
    expect(row.sequential.relative.defined).toBe(false);
    expect(row.sequential.relative.reason).toMatch(/zero conversions in control/);
  });

  it('detects the harm on the absolute sequential test (p ≈ 2e-12)', () => {
    expect(row.sequential.absolute.pValue).toBeLessThan(1e-10);
    const g = guardrailVerdict(row.sequential, 'decrease');
    expect(g.status).toBe('harm');
    expect(g.basis).toBe('absolute');
    expect(g.message).toMatch(/relative lift undefined/);
  });

  it('lets a primary metric with a zero baseline ship', () => {
    const good = resultsTable([
      { name: 'signups', kind: 'proportion', control: conv(0, 50000), variants: [{ name: 'B', stats: conv(60, 50000) }] },
    ]);
    expect(effectVerdict(good.comparisons[0].sequential, 'increase')).toMatchObject({ outcome: 'benefit', basis: 'absolute' });
  });
});

describe('defect 5: small arms', () => {
  // 900 units / 60 conversions vs 100 units / 0 conversions. Fisher exact p = 0.0029.
  const fisher = ref.fisher900_60_vs_100_0;

  it('is not significant: the 100-unit arm is below the 150-unit minimum', () => {
    const t = resultsTable([{ name: 'c', kind: 'proportion', control: conv(60, 900), variants: [{ name: 'B', stats: conv(0, 100) }] }]);
    const e = t.comparisons[0].sequential.absolute;
    expect(e.significant).toBe(false);
    expect(e.insufficient).toMatch(/at least 150 units per arm/);
    // Even without the minimum, the floored variance keeps the always-valid p far from 9e-7.
    const open = resultsTable([{ name: 'c', kind: 'proportion', control: conv(60, 900), variants: [{ name: 'B', stats: conv(0, 100) }] }], {
      minimums: { unitsPerArm: 2 },
    });
    expect(open.comparisons[0].sequential.absolute.pValue).toBeGreaterThan(0.05);
    expect(open.comparisons[0].fixed.absolute.pValue).toBeGreaterThan(fisher);
  });

  it.each(ref.flooredProportions)('floors the variance of $control vs $treatment at max(pooled, Agresti–Caffo)', (c) => {
    const e = twoProportionZTest(conv(c.control[0], c.control[1]), conv(c.treatment[0], c.treatment[1]), { varianceFloor: true });
    expectRelClose(e.standardError ** 2, c.variance, 1e-12);
    expectRelClose(e.pValue, c.pValue, 1e-9);
    expectRelClose(e.ci?.[0] ?? Number.NaN, c.ci[0], 1e-9);
  });

  it('waits for 30 conversions in total on a conversion metric', () => {
    const t = resultsTable([{ name: 'c', kind: 'proportion', control: conv(2, 5000), variants: [{ name: 'B', stats: conv(20, 5000) }] }]);
    expect(t.comparisons[0].sequential.absolute.insufficient).toMatch(/30 conversions/);
  });

  it('lets a metric override the minimums', () => {
    const t = resultsTable([
      { name: 'c', kind: 'proportion', control: conv(2, 5000), variants: [{ name: 'B', stats: conv(20, 5000) }], minimums: { events: 10 } },
    ]);
    expect(t.comparisons[0].sequential.absolute.insufficient).toBeUndefined();
  });

  it('winsorizes mean metrics at p99.9 by default and can be switched off', () => {
    expect(winsorizationFor('mean')).toEqual({ enabled: true, upperPercentile: 0.999, lowerPercentile: 0 });
    expect(winsorizationFor('proportion').enabled).toBe(false);
    expect(winsorizationFor('mean', { enabled: false }).enabled).toBe(false);
  });
});

describe('defect 5: variance floor for skewed mean metrics with unequal arms', () => {
  it('uses max(Welch, pooled) like numpy on the raw arrays', () => {
    const c = ref.flooredMean;
    const t = resultsTable([{ name: 'rev', control: c.control, variants: [{ name: 'B', stats: c.treatment }] }], { correction: 'none' });
    const e = t.comparisons[0].sequential.absolute;
    expectRelClose(e.standardError ** 2, c.variance, 1e-9);
    expect(c.pooled).toBeGreaterThan(c.welch);
    const plain = resultsTable([{ name: 'rev', control: c.control, variants: [{ name: 'B', stats: c.treatment }] }], {
      correction: 'none',
      varianceFloor: false,
    });
    expectRelClose(plain.comparisons[0].sequential.absolute.standardError ** 2, c.welch, 1e-9);
  });
});

describe('defect 7: smaller ones', () => {
  it.each(ref.logRatio)('builds relative intervals on the log ratio ($name), never below −100%', (c) => {
    const t = resultsTable([{ name: 'm', control: c.control, variants: [{ name: 'B', stats: c.treatment }] }], {
      correction: 'none',
      minimums: { unitsPerArm: 2 },
      varianceFloor: false,
    });
    const e = t.comparisons[0].fixed.relative;
    expectRelClose(e.estimate, c.estimate, 1e-9);
    expectRelClose(e.ci?.[0] ?? Number.NaN, c.ci[0], 1e-9);
    expectRelClose(e.ci?.[1] ?? Number.NaN, c.ci[1], 1e-9);
    expectRelClose(e.pValue, c.pValue, 1e-8);
    const seq = t.comparisons[0].sequential.relative;
    expect(seq.ci?.[0]).toBeGreaterThan(-1);
    expect(e.params.interval).toBe('log-ratio');
  });

  it('the review case: the plain delta interval of the large drop goes below −100%, the log-ratio one does not', () => {
    expect(ref.logRatio[0].deltaCi[0]).toBeLessThan(-1);
    expect(ref.logRatio[0].ci[0]).toBeGreaterThan(-1);
  });

  it('gives 0/10 vs 10/10 a non-degenerate interval', () => {
    const t = resultsTable([{ name: 'c', kind: 'proportion', control: conv(0, 10), variants: [{ name: 'B', stats: conv(10, 10) }] }]);
    for (const e of [t.comparisons[0].fixed.absolute, t.comparisons[0].sequential.absolute]) {
      expect(e.defined).toBe(true);
      const ci = e.ci ?? [0, 0];
      expect(ci[1] - ci[0]).toBeGreaterThan(0.5);
    }
  });

  it('rejects previousPValue −1 (and NaN, 1.5) with a clear error', () => {
    const c = { n: 100, sum: 1000, sumSq: 10400 };
    expect(() => sequentialConfidenceSequence(c, c, { previousPValue: -1 })).toThrow(StatsInputError);
    expect(() => msprt(c, c, { previousPValue: Number.NaN })).toThrow(/previousPValue must be in \[0, 1\]/);
    expect(() => sequentialConfidenceSequence(c, c, { previousPValue: 1.5 })).toThrow(StatsInputError);
  });

  it('rejects winsorization with upper < lower', () => {
    expect(() => winsorize([1, 2, 3], 0.2, 0.8)).toThrow(/below the lower percentile/);
    expect(() => capThresholds([1, 2, 3], 1.5)).toThrow(StatsInputError);
    expect(() => capValue(3, { lower: 5, upper: 1 })).toThrow(StatsInputError);
  });

  it('reports inconsistent sums instead of treating them as zero variance', () => {
    const e = welchTTest({ n: 100, sum: 1000, sumSq: 5000 }, { n: 100, sum: 1000, sumSq: 10400 });
    expect(e.defined).toBe(false);
    expect(e.reason).toMatch(/inconsistent statistics/);
    const p = twoProportionZTest(conv(120, 100), conv(10, 100));
    expect(p.reason).toMatch(/conversions outside/);
  });

  describe('mean 1e6 with sd 0.1', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 1e6 + 0.1 * Math.sin(i + 1));
    const raw: ArmStats = { n: 1000, sum: values.reduce((a, b) => a + b, 0), sumSq: values.reduce((a, b) => a + b * b, 0) };

    it('refuses raw sums whose variance was lost to cancellation, with the remedy in the reason', () => {
      const e = welchTTest(raw, raw);
      expect(e.defined).toBe(false);
      expect(e.reason).toMatch(/cancellation.*m2/);
    });

    it('matches numpy with the centred sums from Welford / combineMoments', () => {
      const whole = momentsOfValues(values);
      const parts = [values.slice(0, 137), values.slice(137, 600), values.slice(600)].map(momentsOfValues);
      const combined = parts.reduce(combineMoments);
      for (const m of [whole, combined]) {
        expectRelClose(sampleVariance(armFromCentred(m)), ref.stableVariance.variance, 1e-9);
        expectRelClose(m.mean, ref.stableVariance.mean, 1e-15);
      }
      const e = welchTTest(armFromCentred(whole), armFromCentred(combined));
      expect(e.defined).toBe(true);
      expect(Math.abs(e.estimate)).toBeLessThan(1e-6);
    });
  });
});
