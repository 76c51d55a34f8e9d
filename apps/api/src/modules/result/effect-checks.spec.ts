import { noveltyTrend } from '@strata/stats';
import { describe, expect, it } from 'vitest';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import { buildCohortNovelty, buildHeterogeneity, buildNovelty, cohortNoveltyAvailable } from './effect-checks';
import { EMPTY_ARM, type ArmAggregate, type MetricAggregates } from './results-builder';
import type { DailyDelta, DailyUnits } from './timeseries-builder';

const metric: AnalysisMetric = {
  key: 'm', name: 'M', type: 'conversion', eventName: 'e', denominatorEventName: null, direction: 'increase', winsorizePercentile: null,
  harmThreshold: null, attributionWindowHours: null, cupedLookbackDays: 0, role: 'primary', isGuardrail: false,
};
const def: AnalysisDefinition = {
  key: 'x', status: 'running', variants: [{ key: 'control', name: 'control', weight: 0.5 }, { key: 'treatment', name: 'treatment', weight: 0.5 }],
  startedAt: new Date('2026-11-01T00:00:00Z'), stoppedAt: null, plannedSampleSize: null, minDurationDays: null, autoStop: false, alerts: [], metrics: [metric], segmentDimensions: [],
};
const days = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05'];

/** Each day a fresh cohort of 1,000 units per arm; control converts at 10%, treatment at 10% + lift(day). */
function daily(lift: (day: number) => number): { units: DailyUnits[]; deltas: DailyDelta[] } {
  const units: DailyUnits[] = [];
  const deltas: DailyDelta[] = [];
  days.forEach((day, d) => {
    for (const [variant, rate] of [['control', 0.1], ['treatment', 0.1 + lift(d)]] as const) {
      units.push({ day, variant, n: 1000 });
      const k = Math.round(1000 * rate);
      deltas.push({ day, variant, dSum: k, dSumSq: k, dSumDen: 0, dSumDenSq: 0, dSumNumDen: 0 });
    }
  });
  return { units, deltas };
}

describe('novelty from the stored per-day slices', () => {
  it('recovers each day cohort from the cumulative reads and flags a fading effect', () => {
    const { units, deltas } = daily((d) => 0.1 - 0.025 * d);
    const [n] = buildNovelty(def, days, units, deltas, 0.05);
    expect(n.cohorts.map((c) => c.day)).toEqual([0, 1, 2, 3, 4]);
    // Increments of information give back each cohort's own difference, approximately: the variances are estimated, per read.
    n.cohorts.forEach((c, d) => expect(Math.abs(c.estimate - (0.1 - 0.025 * d))).toBeLessThan(0.01));
    expect(n.slope).toBeLessThan(0);
    expect(n).toMatchObject({ flagged: true, pattern: 'fading', variant: 'treatment', metric: 'm' });
    const again = noveltyTrend(n.cohorts.map((c) => ({ day: c.day, estimate: c.estimate, variance: ((c.ci as [number, number])[1] - c.estimate) ** 2 / 1.959963984540054 ** 2 })));
    expect(n.slope).toBeCloseTo(again.slope, 10);
  });

  it('is not defined, and says why, with fewer than 3 days', () => {
    const { units, deltas } = daily(() => 0.05);
    const [n] = buildNovelty(def, days.slice(0, 2), units.filter((u) => u.day <= days[1]), deltas.filter((d) => d.day <= days[1]), 0.05);
    expect(n).toMatchObject({ flagged: false, pattern: 'none', reason: 'fewer than 3 exposure-day cohorts' });
  });
});

describe('heterogeneity from the declared dimensions', () => {
  const conv = (n: number, k: number): ArmAggregate => ({ ...EMPTY_ARM, n, sum: k, sumSq: k });
  const slice = (c: ArmAggregate, t: ArmAggregate): MetricAggregates => new Map([['m', new Map([['control', c], ['treatment', t]])]]);

  it('flags the dimension whose segments differ, highlights them, and skips a segment that cannot be estimated', () => {
    const country = new Map([
      ['DE', slice(conv(2000, 200), conv(2000, 400))],
      ['FR', slice(conv(2000, 200), conv(2000, 200))],
      ['XX', slice(conv(1, 0), conv(1, 0))],
    ]);
    const platform = new Map([
      ['ios', slice(conv(2000, 200), conv(2000, 300))],
      ['android', slice(conv(2000, 200), conv(2000, 300))],
    ]);
    const out = buildHeterogeneity(def, [{ dimension: 'country', slices: country }, { dimension: 'platform', slices: platform }], 0.05);
    expect(out.map((h) => [h.dimension, h.flagged, h.df])).toEqual([['country', true, 1], ['platform', false, 1]]);
    expect(out[0].highlighted.sort()).toEqual(['DE', 'FR']);
    expect(out[0].params.segments).toBe(2);
  });
});

describe('novelty from the exposure-day cohorts', () => {
  const windowed: AnalysisMetric = { ...metric, attributionWindowHours: 24 };
  const cohortDef: AnalysisDefinition = { ...def, metrics: [windowed], segmentDimensions: ['country', 'first_exposure_day'] };
  const conv = (n: number, k: number): ArmAggregate => ({ ...EMPTY_ARM, n, sum: k, sumSq: k });
  /** 2,000 units per arm per cohort day; control converts at 10 %, treatment at 10 % + lift(d). */
  const cohorts = (lift: (d: number) => number): Map<string, MetricAggregates> =>
    new Map(days.map((day, d) => [day, new Map([['m', new Map([['control', conv(2000, 200)], ['treatment', conv(2000, Math.round(2000 * (0.1 + lift(d))))]])]])]));

  it('is used only when the cohort dimension is declared and the primary metric has a window', () => {
    expect(cohortNoveltyAvailable(cohortDef)).toBe(true);
    expect(cohortNoveltyAvailable({ ...cohortDef, metrics: [metric] })).toBe(false);
    expect(cohortNoveltyAvailable({ ...cohortDef, segmentDimensions: ['country'] })).toBe(false);
  });

  it("takes each cohort's effect from its slice and flags a fading effect; cohorts whose window is still open wait", () => {
    // Data through 2026-11-06 12:00: cohorts up to 11-04 (+1 day +24 h = 11-06 00:00) are complete.
    const [n] = buildCohortNovelty(cohortDef, cohorts((d) => 0.09 - 0.03 * d), new Date('2026-11-06T12:00:00Z'), 0.05);
    expect(n.cohorts.map((c) => c.day)).toEqual([0, 1, 2, 3]);
    n.cohorts.forEach((c, d) => expect(c.estimate).toBeCloseTo(0.09 - 0.03 * d, 10));
    expect(n).toMatchObject({ flagged: true, pattern: 'fading', params: { attributionWindowHours: 24 } });
    expect(n.params.cohorts).toMatch(/^exposure-day cohorts/);
  });

  it('does not flag a constant effect', () => {
    const [n] = buildCohortNovelty(cohortDef, cohorts(() => 0.02), new Date('2026-11-08T00:00:00Z'), 0.05);
    expect(n.cohorts).toHaveLength(5);
    expect(n).toMatchObject({ flagged: false, pattern: 'none' });
    expect(n.reason).toBeUndefined();
  });
});
