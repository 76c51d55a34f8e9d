import { describe, expect, it } from 'vitest';
import { expectAllFinite } from '../test/helpers';
import { syntheticMetrics } from '../test/fixtures';
import { analyzeComparison, ESTIMATE_FAMILIES, resultsTable, type ComparisonResult, type Estimate, type EstimateFamily } from './index';

function estimateOf(r: ComparisonResult, f: EstimateFamily): Estimate {
  const [group, key] = f.split('.') as ['fixed' | 'sequential', string];
  return (r[group] as Record<string, Estimate>)[key];
}

function excludesZero(e: Estimate): boolean {
  return e.ci !== null && (e.ci[0] > 0 || e.ci[1] < 0);
}

describe('resultsTable', () => {
  const metrics = syntheticMetrics(7, 10, 5, 2000);
  const table = resultsTable(metrics, { plannedSampleSize: 4000 });

  it('computes every metric × variant with sequential, fixed and mSPRT estimates and no NaN anywhere', () => {
    expect(table.comparisons).toHaveLength(50);
    expect(table.correction).toMatchObject({ method: 'e-bh', m: 50, alpha: 0.05 });
    expect(table.correction.applied).toMatchObject({ 'fixed.absolute': 'benjamini-hochberg', 'sequential.relative': 'e-bh' });
    expectAllFinite(table);
    for (const c of table.comparisons) for (const f of ESTIMATE_FAMILIES) expect(estimateOf(c, f).defined).toBe(true);
  });

  it('applies CUPED when arms carry covariate sums, shrinking the standard error', () => {
    const plain = resultsTable(syntheticMetrics(7, 10, 5, 2000), { cuped: false });
    const c = table.comparisons[0];
    expect(c.cuped.applied).toBe(true);
    expect(c.cuped.varianceReduction).toBeGreaterThan(0.3);
    expect(c.sequential.absolute.standardError).toBeLessThan(plain.comparisons[0].sequential.absolute.standardError);
    expect(plain.comparisons[0].cuped).toMatchObject({ applied: false, reason: 'disabled' });
  });

  it('finds the real 5% lifts on variant 1 of every metric after Benjamini–Hochberg', () => {
    const hits = table.comparisons.filter((c) => c.variant === 'variant-1' && c.sequential.relative.significant);
    expect(hits.length).toBeGreaterThanOrEqual(8);
  });

  it.each(ESTIMATE_FAMILIES)('builds %s intervals that exclude zero exactly when the adjusted p-value is significant', (f) => {
    for (const c of table.comparisons) {
      const e = estimateOf(c, f);
      expect(e.adjustedPValue).toBeDefined();
      expect(excludesZero(e)).toBe(e.significant);
      expect(e.params.ciAlpha).toBe(table.correction.ciAlpha[f]);
    }
  });

  it('widens intervals with Bonferroni and leaves raw p-values untouched', () => {
    const bonf = resultsTable(metrics, { plannedSampleSize: 4000, correction: 'bonferroni' });
    const none = resultsTable(metrics, { plannedSampleSize: 4000, correction: 'none' });
    const w = (e: Estimate) => (e.ci ? e.ci[1] - e.ci[0] : 0);
    expect(bonf.correction.ciAlpha['fixed.absolute']).toBeCloseTo(0.001, 12);
    expect(w(bonf.comparisons[3].fixed.absolute)).toBeGreaterThan(w(none.comparisons[3].fixed.absolute));
    expect(bonf.comparisons[3].fixed.absolute.pValue).toBe(none.comparisons[3].fixed.absolute.pValue);
    expect(none.comparisons[3].fixed.absolute.adjustedPValue).toBeUndefined();
  });

  it('counts an undefined comparison as p = 1 and keeps it undefined', () => {
    const withEmpty = [
      ...metrics.slice(0, 2),
      { name: 'broken', control: { n: 0, sum: 0, sumSq: 0 }, variants: [{ name: 'v', stats: { n: 5, sum: 5, sumSq: 9 } }] },
    ];
    const t = resultsTable(withEmpty);
    const broken = t.comparisons.find((c) => c.metric === 'broken')!;
    expect(t.correction.m).toBe(11);
    expect(broken.sequential.absolute).toMatchObject({ defined: false, adjustedPValue: 1, significant: false, ci: null });
    expect(broken.cuped.applied).toBe(false);
    expectAllFinite(t);
  });

  it('never lets an always-valid p-value rise above the previous read', () => {
    const m = [{ ...metrics[0], variants: [{ ...metrics[0].variants[2], previous: { sequentialAbsolute: 1e-4, msprt: 2e-4 } }] }];
    const r = resultsTable(m, { correction: 'none' }).comparisons[0];
    expect(r.sequential.absolute.pValue).toBeLessThanOrEqual(1e-4);
    expect(r.sequential.msprt.pValue).toBeLessThanOrEqual(2e-4);
  });

  it('uses the two-proportion z-test for conversion metrics', () => {
    const r = analyzeComparison({ n: 1000, sum: 100, sumSq: 100 }, { n: 1000, sum: 130, sumSq: 130 }, { kind: 'proportion' });
    expect(r.fixed.absolute.method).toBe('two-proportion-z');
    expect(r.sequential.absolute.method).toBe('confidence-sequence');
    expect(r.cuped).toMatchObject({ applied: false, reason: 'no covariate statistics' });
  });

  it('analyses ratio metrics with the delta method in every family and reports CUPED as unsupported', () => {
    const arm = (n: number, perSession: number) => ({
      n,
      sumNum: n * 2.5 * perSession,
      sumNumSq: n * 2.5 * 2.5 * perSession * perSession * 1.4,
      sumDen: n * 2.5,
      sumDenSq: n * 2.5 * 2.5 * 1.2,
      sumNumDen: n * 2.5 * 2.5 * perSession * 1.25,
    });
    const t = resultsTable([
      { name: 'revenue/session', kind: 'ratio', control: arm(3000, 4), variants: [{ name: 'B', stats: arm(3100, 4.4) }] },
    ]);
    const r = t.comparisons[0];
    expect(r.fixed.absolute.method).toBe('ratio-delta');
    expect(r.fixed.relative.estimate).toBeCloseTo(0.1, 12);
    expect(r.sequential.absolute).toMatchObject({ method: 'confidence-sequence', defined: true });
    expect(r.sequential.msprt).toMatchObject({ method: 'msprt', defined: true });
    expect(r.cuped).toMatchObject({ applied: false, reason: 'not supported for ratio metrics' });
    expectAllFinite(t);
  });
});
