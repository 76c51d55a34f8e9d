import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  capThresholds,
  cupedAdjust,
  mean,
  msprt,
  ratioConfidenceSequence,
  ratioMetric,
  ratioMsprt,
  relativeLiftDelta,
  sampleSizeFixed,
  sampleSizeSequential,
  sampleVariance,
  sequentialConfidenceSequence,
  srmTest,
  twoProportionZTest,
  welchTTest,
  winsorize,
  type Estimate,
} from '../src';
import { chiSquareSurvival, studentTQuantile, twoSidedTP, zQuantile } from '../src/distributions';
import { expectRelClose } from './helpers';
import { reference } from './reference/reference-values';

/**
 * Every public function against independent SciPy/NumPy values at 1e-6 relative tolerance.
 * How the numbers were made: libs/stats/test/reference/generate.py draws seeded raw data, stores
 * its sufficient statistics, and computes each reference from the *raw arrays* with SciPy
 * (ttest_ind, chisquare, false_discovery_control, norm/t/chi2) or NumPy (delta method, CUPED θ,
 * confidence-sequence radius). Its output, reference/reference-values.ts, is committed; tests
 * never run Python. Cases include unequal arms, tiny counts (n = 2 vs 3) and tiny p-values.
 */
const REL = 1e-6;

interface Expected {
  estimate: number;
  pValue: number;
  ci: number[];
}

function expectMatches(actual: Estimate, expected: Expected): void {
  expect(actual.defined, actual.reason).toBe(true);
  expectRelClose(actual.estimate, expected.estimate, REL);
  expectRelClose(actual.pValue, expected.pValue, REL);
  expect(actual.ci).not.toBeNull();
  expectRelClose(actual.ci![0], expected.ci[0], REL);
  expectRelClose(actual.ci![1], expected.ci[1], REL);
}

describe.each(reference.meanCases)('mean metric: $name', (c) => {
  it('matches scipy ttest_ind(equal_var=False) for the Welch test and its CI', () => {
    const r = welchTTest(c.control, c.treatment, { alpha: 0.05 });
    expectMatches(r, c.welch05);
    expectRelClose(r.params.df as number, c.welch05.df, REL);
    expectRelClose(r.params.t as number, c.welch05.t, REL);
    expectMatches(welchTTest(c.control, c.treatment, { alpha: 0.01 }), c.welch01);
  });

  it('matches the numpy delta-method relative lift', () => {
    const r = relativeLiftDelta(c.control, c.treatment, { alpha: 0.05 });
    expectMatches(r, c.relative05);
    expectRelClose(r.standardError, c.relative05.se, REL);
  });

  it('matches the confidence-sequence radius recomputed from the paper formula', () => {
    const abs = sequentialConfidenceSequence(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 5000 });
    expectMatches(abs, c.csAbs);
    expectRelClose(abs.params.rho as number, c.csAbs.rho, REL);
    expectMatches(sequentialConfidenceSequence(c.control, c.treatment, { alpha: 0.05, relative: true }), c.csRel);
    expectMatches(sequentialConfidenceSequence(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 300 }), c.csAbsPlanned300);
  });

  it('matches the mSPRT likelihood ratio recomputed with numpy', () => {
    const d = msprt(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 5000 });
    expectMatches(d, c.msprtAbsDefault);
    expectRelClose(d.params.tau2 as number, c.msprtAbsDefault.tau2, REL);
    expectRelClose(d.params.logLikelihoodRatio as number, c.msprtAbsDefault.logLikelihoodRatio, REL);
    expectMatches(msprt(c.control, c.treatment, { alpha: 0.05, tau2: 0.01 }), c.msprtAbsTau);
    expectMatches(msprt(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 2000, relative: true }), c.msprtRelDefault);
  });
});

describe.each(reference.proportionCases)('conversions: $name', (c) => {
  it('matches the pooled z statistic and unpooled Wald interval', () => {
    const r = twoProportionZTest(c.control, c.treatment, { alpha: 0.05 });
    expectMatches(r, c);
    expectRelClose(r.params.z as number, c.z, REL);
  });
});

describe.each(reference.ratioCases)('ratio metric: $name', (c) => {
  it('matches the numpy delta method for the absolute and relative difference', () => {
    expectMatches(ratioMetric(c.control, c.treatment, { alpha: 0.05 }), c.absolute);
    expectMatches(ratioMetric(c.control, c.treatment, { alpha: 0.05, relative: true }), c.relative);
  });

  it('matches the confidence sequence and mSPRT recomputed on the delta-method contrast', () => {
    expectMatches(ratioConfidenceSequence(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 1000 }), c.csAbs);
    expectMatches(ratioConfidenceSequence(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 1000, relative: true }), c.csRel);
    expectMatches(ratioMsprt(c.control, c.treatment, { alpha: 0.05, plannedSampleSize: 1000 }), c.msprtAbsDefault);
  });
});

describe('CUPED against numpy on three arms of unequal size', () => {
  const ref = reference.cuped;
  const result = cupedAdjust(ref.arms);

  it('pools theta over all units like np.cov over the concatenated arms', () => {
    expect(result.defined).toBe(true);
    expectRelClose(result.theta, ref.theta, REL);
    expectRelClose(result.covariateMean, ref.covariateMean, REL);
  });

  it('reproduces the adjusted means, variances and variance reduction of the adjusted raw data', () => {
    result.arms.forEach((arm, i) => {
      expectRelClose(mean(arm), ref.adjustedMeans[i], REL);
      expectRelClose(sampleVariance(arm), ref.adjustedVariances[i], REL);
      expectRelClose(result.varianceReduction[i], ref.varianceReduction[i], REL);
    });
  });

  it('feeds Welch tests that match scipy on the adjusted raw arrays', () => {
    expectMatches(welchTTest(result.arms[0], result.arms[1]), ref.welchArm1);
    expectMatches(welchTTest(result.arms[0], result.arms[2]), ref.welchArm2);
  });
});

describe('SRM against scipy.stats.chisquare', () => {
  it.each(reference.srmCases)('matches chi-square and p for counts $counts', (c) => {
    const r = srmTest(c.counts, c.weights);
    expectRelClose(r.chiSquare, c.chiSquare, REL);
    expectRelClose(r.pValue, c.pValue, REL);
    expect(r.flagged).toBe(c.pValue < 0.001);
  });
});

describe('Benjamini–Hochberg against scipy.stats.false_discovery_control', () => {
  it.each(reference.bhCases)('matches adjusted p-values for $pValues', (c) => {
    benjaminiHochberg(c.pValues).adjustedPValues.forEach((p, i) => expectRelClose(p, c.adjusted[i], REL));
  });
});

describe('sample sizes against the closed forms with scipy.stats.norm.ppf', () => {
  it.each(reference.sampleSizeCases)('matches per-arm units for $options', (c) => {
    expect(sampleSizeFixed(c.options).perArm).toBe(c.fixed);
    expect(sampleSizeSequential(c.options).perArm).toBe(c.sequential);
  });
});

describe('winsorization against np.percentile + np.clip', () => {
  const w = reference.winsorize;
  it('finds the same linear-interpolation thresholds and capped values', () => {
    const t = capThresholds(w.values, w.upper, w.lower);
    expectRelClose(t.upper, w.upperThreshold, REL);
    expectRelClose(t.lower, w.lowerThreshold, REL);
    winsorize(w.values, w.upper, w.lower).forEach((v, i) => expectRelClose(v, w.winsorized[i], REL));
  });
});

describe('distribution wrappers against scipy.stats', () => {
  const d = reference.distributions;
  it.each(d.tQuantile)('t quantile p=$p df=$df', (c) => expectRelClose(studentTQuantile(c.p, c.df), c.value, REL));
  it.each(d.tTwoSided)('two-sided t p-value t=$t df=$df', (c) => expectRelClose(twoSidedTP(c.t, c.df), c.value, REL));
  it.each(d.zQuantile)('normal quantile p=$p', (c) => expectRelClose(zQuantile(c.p), c.value, REL));
  it.each(d.chiSquareSurvival)('chi-square upper tail x=$x df=$df', (c) => expectRelClose(chiSquareSurvival(c.x, c.df), c.value, REL));
});
