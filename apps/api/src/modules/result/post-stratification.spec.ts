import { resultsQuerySchema } from '@strata/contracts';
import { postStratify } from '@strata/stats';
import { describe, expect, it } from 'vitest';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import { buildPostStratified } from './post-stratification';
import { EMPTY_ARM, type ArmAggregate, type MetricAggregates } from './results-builder';

const metric: AnalysisMetric = {
  key: 'm', name: 'M', type: 'mean', eventName: 'e', denominatorEventName: null, direction: 'increase', winsorizePercentile: null,
  harmThreshold: null, attributionWindowHours: null, cupedLookbackDays: 0, role: 'primary', isGuardrail: false,
};
const def = (metrics: AnalysisMetric[]): AnalysisDefinition => ({
  key: 'x', status: 'running', variants: [{ key: 'control', name: 'control', weight: 0.5 }, { key: 'treatment', name: 'treatment', weight: 0.5 }],
  startedAt: new Date('2026-11-01T00:00:00Z'), stoppedAt: null, plannedSampleSize: null, minDurationDays: null, autoStop: false, alerts: [], metrics, segmentDimensions: ['region'],
});
const query = resultsQuerySchema.parse({ stratify: 'region' });

/** n units with values mean ± sd (half each side): Σy = n·mean, Σy² = n(mean² + sd²). */
function arm(n: number, mean: number, sd: number): ArmAggregate {
  return { ...EMPTY_ARM, n, sum: n * mean, sumSq: n * (mean * mean + sd * sd) };
}
function add(a: ArmAggregate, b: ArmAggregate): ArmAggregate {
  return { ...a, n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}
const slice = (key: string, control: ArmAggregate, treatment: ArmAggregate): MetricAggregates =>
  new Map([[key, new Map([['control', control], ['treatment', treatment]])]]);

describe('buildPostStratified', () => {
  const eu = [arm(400, 10, 2), arm(380, 11, 2)] as const;
  const us = [arm(300, 50, 2), arm(330, 51, 2)] as const;
  const unset = [arm(100, 30, 2), arm(90, 31, 2)] as const;
  const tiny = [arm(10, 80, 2), arm(12, 81, 2)] as const;

  it('post-stratifies on the stored slices and adds the units without a stored value as "(not set)"', () => {
    const whole = slice('m', add(add(eu[0], us[0]), unset[0]), add(add(eu[1], us[1]), unset[1]));
    const slices = new Map([['EU', slice('m', ...eu)], ['US', slice('m', ...us)]]);
    const [r] = buildPostStratified(def([metric]), 'region', whole, slices, query);
    expect(r.strata).toEqual([{ value: 'EU', units: 780 }, { value: 'US', units: 630 }, { value: '(not set)', units: 190 }]);
    const expected = postStratify([
      { name: 'EU', control: eu[0], treatment: eu[1] },
      { name: 'US', control: us[0], treatment: us[1] },
      { name: '(not set)', control: unset[0], treatment: unset[1] },
    ]);
    if (!expected.absolute.ok) throw new Error(expected.absolute.reason);
    expect(r.absolute.fixed.estimate).toBeCloseTo(expected.absolute.estimate, 9);
    const half = ((r.absolute.fixed.ci?.[1] ?? 0) - (r.absolute.fixed.ci?.[0] ?? 0)) / 2;
    expect(half).toBeCloseTo(1.959963984540054 * Math.sqrt(expected.absolute.variance), 9);
    expect(r.absolute.sequential).toMatchObject({ method: 'confidence-sequence', params: { estimator: 'post-stratification', dimension: 'region', correction: 'e-bh' } });
    expect(r.absolute.sequential.adjustedPValue).toBeDefined();
    expect(r).toMatchObject({ method: 'post-stratification', dimension: 'region', cuped: { applied: false, reason: 'disabled' } });
  });

  it('merges a stratum with fewer than 30 units in an arm into "(other)", with the next smallest', () => {
    const whole = slice('m', add(add(eu[0], us[0]), tiny[0]), add(add(eu[1], us[1]), tiny[1]));
    const slices = new Map([['EU', slice('m', ...eu)], ['US', slice('m', ...us)], ['XX', slice('m', ...tiny)]]);
    const [r] = buildPostStratified(def([metric]), 'region', whole, slices, query);
    expect(r.strata).toEqual([{ value: 'EU', units: 780 }, { value: '(other)', units: 652 }]);
    expect(r.reason).toBeUndefined();
  });

  it('says why a ratio metric is not post-stratified', () => {
    const ratio: AnalysisMetric = { ...metric, key: 'r', type: 'ratio', denominatorEventName: 'd' };
    const whole = slice('r', eu[0], eu[1]);
    const [r] = buildPostStratified(def([ratio]), 'region', whole, new Map([['EU', whole]]), query);
    expect(r.reason).toMatch(/^ratio metrics are not post-stratified/);
    expect(r.absolute.fixed.ci).toBeNull();
    expect(r.absolute.sequential.ci).toBeNull();
  });
});
