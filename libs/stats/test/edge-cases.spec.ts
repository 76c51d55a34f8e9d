import { describe, expect, it } from 'vitest';
import {
  analyzeComparison,
  msprt,
  relativeLiftDelta,
  sequentialConfidenceSequence,
  twoProportionZTest,
  welchTTest,
  type ArmStats,
  type Estimate,
} from '../src';
import { expectAllFinite } from './helpers';

/**
 * The edge cases — zero variance, n < 2, zero control mean, all-zero conversions, one
 * empty arm — through every comparison method: a defined:false result with a reason, never NaN,
 * Infinity or an exception.
 */
// 30 of 100 converted: valid both as a mean metric and as conversions.
const ok: ArmStats = { n: 100, sum: 30, sumSq: 30 };
const constant: ArmStats = { n: 50, sum: 250, sumSq: 1250 };
const single: ArmStats = { n: 1, sum: 3, sumSq: 9 };
const empty: ArmStats = { n: 0, sum: 0, sumSq: 0 };
const zeroMean: ArmStats = { n: 100, sum: 0, sumSq: 400 };
const noConversions: ArmStats = { n: 500, sum: 0, sumSq: 0 };
const nonFinite: ArmStats = { n: 10, sum: Number.NaN, sumSq: 5 };

const methods: Record<string, (c: ArmStats, t: ArmStats) => Estimate> = {
  welchTTest: (c, t) => welchTTest(c, t),
  relativeLiftDelta: (c, t) => relativeLiftDelta(c, t),
  twoProportionZTest: (c, t) => twoProportionZTest(c, t),
  'sequentialConfidenceSequence (absolute)': (c, t) => sequentialConfidenceSequence(c, t),
  'sequentialConfidenceSequence (relative)': (c, t) => sequentialConfidenceSequence(c, t, { relative: true }),
  'msprt (absolute)': (c, t) => msprt(c, t),
  'msprt (relative)': (c, t) => msprt(c, t, { relative: true }),
};

function expectUndefined(r: Estimate, reason: RegExp): void {
  expectAllFinite(r);
  expect(r.defined).toBe(false);
  expect(r.reason).toMatch(reason);
  expect(r.ci).toBeNull();
  expect(r.pValue).toBe(1);
  expect(r.significant).toBe(false);
}

describe.each(Object.entries(methods))('%s on degenerate input', (name, run) => {
  const meansOnly = name !== 'twoProportionZTest';

  it('returns a reason instead of NaN when one arm is empty', () => {
    expectUndefined(run(empty, ok), /empty arm/);
    expectUndefined(run(ok, empty), /treatment: empty arm/);
  });

  it('returns a reason for non-finite inputs', () => {
    expectUndefined(run(nonFinite, ok), /non-finite/);
  });

  it.runIf(meansOnly)('returns a reason when an arm has fewer than 2 units', () => {
    expectUndefined(run(single, ok), /n < 2/);
  });

  it.runIf(meansOnly)('returns a reason when both arms have zero variance', () => {
    expectUndefined(run(constant, { n: 60, sum: 360, sumSq: 2160 }), /zero variance/);
  });

  it('returns a reason when nobody converted in either arm', () => {
    const r = run(noConversions, noConversions);
    expectUndefined(r, meansOnly ? /zero (variance|control mean)/ : /zero conversions/);
  });
});

describe('invalid options', () => {
  it('rejects an alpha outside (0, 1) with a reason', () => {
    expectUndefined(welchTTest(ok, ok, { alpha: 2 }), /alpha/);
    expectUndefined(sequentialConfidenceSequence(ok, ok, { alpha: 0 }), /alpha/);
    expectUndefined(sequentialConfidenceSequence(ok, ok, { plannedSampleSize: -1 }), /plannedSampleSize/);
    expectUndefined(msprt(ok, ok, { tau2: 0 }), /tau2/);
  });

  it('rejects conversions above n', () => {
    expectUndefined(twoProportionZTest({ n: 10, sum: 11, sumSq: 11 }, ok), /outside \[0, n\]/);
  });
});

describe('relative lift with a zero control mean', () => {
  it.each([
    ['relativeLiftDelta', relativeLiftDelta(zeroMean, ok)],
    ['sequential relative', sequentialConfidenceSequence(zeroMean, ok, { relative: true })],
    ['msprt relative', msprt(zeroMean, ok, { relative: true })],
  ])('%s says the relative lift is undefined', (_, r) => {
    expectUndefined(r, /zero control mean/);
  });
});

describe('one arm with zero variance but the other varying', () => {
  it('is still a defined Welch test, with df from the varying arm', () => {
    const r = welchTTest(constant, ok);
    expect(r.defined).toBe(true);
    expect(r.params.df).toBeCloseTo(ok.n - 1, 9);
    expectAllFinite(r);
  });
});

describe('analyzeComparison on degenerate input', () => {
  it('fills every estimate with a defined:false placeholder rather than failing', () => {
    const r = analyzeComparison(empty, ok);
    expectAllFinite(r);
    for (const e of [r.fixed.absolute, r.fixed.relative, r.sequential.absolute, r.sequential.relative, r.sequential.msprt]) {
      expect(e.defined).toBe(false);
      expect(e.reason).toBeTruthy();
    }
  });

  it('handles astronomically large sums without producing Infinity', () => {
    const huge: ArmStats = { n: 10, sum: 1e300, sumSq: 1.7e308 };
    expectAllFinite(analyzeComparison(huge, { n: 10, sum: 1e300, sumSq: 1.6e308 }));
  });
});
