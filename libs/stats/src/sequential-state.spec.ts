import { describe, expect, it } from 'vitest';
import { StatsInputError } from './input-error';
import { advanceSequentialState, applySequentialState, monotoneSeries, sequentialStateKey, type SequentialState } from './sequential-state';
import { sequentialConfidenceSequence } from './confidence-sequence';

const key = sequentialStateKey({ alpha: 0.05, correction: 'e-bh', cuped: true, metricDefinitionHash: 'abc', scale: 'relative' });

describe('advanceSequentialState', () => {
  it('starts a sequence from the first read', () => {
    const s = advanceSequentialState(null, { key, pValue: 0.3, ci: [-0.1, 0.2], at: '2026-11-01' });
    expect(s).toEqual({
      key,
      sequence: 1,
      restartReason: null,
      reads: 1,
      pValue: 0.3,
      ci: [-0.1, 0.2],
      emptyIntersection: false,
      startedAt: '2026-11-01',
    });
  });

  it('keeps the running minimum p and the running intersection of the intervals', () => {
    let s = advanceSequentialState(null, { key, pValue: 0.04, ci: [0.01, 0.3] });
    s = advanceSequentialState(s, { key, pValue: 0.2, ci: [-0.05, 0.2] });
    expect(s.pValue).toBe(0.04);
    expect(s.ci).toEqual([0.01, 0.2]);
    s = advanceSequentialState(s, { key, pValue: 0.01, ci: [0.05, 0.25] });
    expect(s.pValue).toBe(0.01);
    expect(s.ci).toEqual([0.05, 0.2]);
    expect(s.reads).toBe(3);
  });

  it('keeps the interval on an undefined read', () => {
    let s = advanceSequentialState(null, { key, pValue: 0.5, ci: [-1, 1] });
    s = advanceSequentialState(s, { key, pValue: 1, ci: null });
    expect(s.ci).toEqual([-1, 1]);
    expect(s.pValue).toBe(0.5);
  });

  it('turns disjoint intervals into a flagged point between the closest bounds', () => {
    let s = advanceSequentialState(null, { key, pValue: 0.01, ci: [0.1, 0.2] });
    s = advanceSequentialState(s, { key, pValue: 0.02, ci: [0.3, 0.4] });
    expect(s.ci).toEqual([0.25, 0.25]);
    expect(s.emptyIntersection).toBe(true);
    s = advanceSequentialState(s, { key, pValue: 0.5, ci: [0, 1] });
    expect(s.ci).toEqual([0.25, 0.25]);
    expect(s.emptyIntersection).toBe(true);
  });

  it('starts a new, labelled sequence when the configuration changes', () => {
    const other = sequentialStateKey({ alpha: 0.01, correction: 'e-bh', cuped: false, metricDefinitionHash: 'abc', scale: 'relative' });
    let s = advanceSequentialState(null, { key, pValue: 0.001, ci: [0.1, 0.2] });
    s = advanceSequentialState(s, { key: other, pValue: 0.3, ci: [-0.1, 0.3], at: 'tick-9' });
    expect(s.sequence).toBe(2);
    expect(s.restartReason).toBe('alpha, CUPED changed');
    expect(s.pValue).toBe(0.3);
    expect(s.ci).toEqual([-0.1, 0.3]);
    expect(s.startedAt).toBe('tick-9');
  });

  it('rejects a stored p-value of −1, a p above 1 and inverted intervals', () => {
    const bad: SequentialState = {
      key,
      sequence: 1,
      restartReason: null,
      reads: 1,
      pValue: -1,
      ci: null,
      emptyIntersection: false,
      startedAt: null,
    };
    expect(() => advanceSequentialState(bad, { key, pValue: 0.5, ci: null })).toThrow(StatsInputError);
    expect(() => advanceSequentialState(null, { key, pValue: 1.5, ci: null })).toThrow(/p-value in \[0, 1\]/);
    expect(() => advanceSequentialState(null, { key, pValue: 0.5, ci: [1, 0] })).toThrow(/lower ≤ upper/);
    expect(() => advanceSequentialState(null, { key, pValue: Number.NaN, ci: null })).toThrow(StatsInputError);
  });

  it('includes every configuration field in the key', () => {
    const base = { alpha: 0.05, correction: 'e-bh', cuped: true, metricDefinitionHash: 'abc', scale: 'relative' as const };
    const keys = new Set([
      sequentialStateKey(base),
      sequentialStateKey({ ...base, alpha: 0.1 }),
      sequentialStateKey({ ...base, correction: 'bonferroni' }),
      sequentialStateKey({ ...base, cuped: false }),
      sequentialStateKey({ ...base, metricDefinitionHash: 'abd' }),
      sequentialStateKey({ ...base, scale: 'absolute' }),
      sequentialStateKey({ ...base, plannedSampleSize: 8000 }),
      sequentialStateKey({ ...base, stratifiedBy: 'country' }),
    ]);
    expect(keys.size).toBe(8);
  });
});

describe('applySequentialState', () => {
  it('keeps a comparison significant once its running p crossed alpha, with the interval excluding 0', () => {
    const significant = sequentialConfidenceSequence({ n: 2000, sum: 20000, sumSq: 208000 }, { n: 2000, sum: 20600, sumSq: 220180 });
    expect(significant.significant).toBe(true);
    const later = sequentialConfidenceSequence({ n: 2200, sum: 22000, sumSq: 228800 }, { n: 2200, sum: 22200, sumSq: 232400 });
    expect(later.significant).toBe(false);
    let s = advanceSequentialState(null, { key, pValue: significant.pValue, ci: significant.ci });
    s = advanceSequentialState(s, { key, pValue: later.pValue, ci: later.ci });
    const shown = applySequentialState(later, s, 0.05);
    expect(shown.significant).toBe(true);
    expect(shown.pValue).toBe(significant.pValue);
    expect(shown.ci?.[0]).toBeGreaterThan(0);
    expect(shown.estimate).toBe(later.estimate);
    expect(shown.params.sequence).toBe(1);
  });
});

describe('monotoneSeries', () => {
  it('ends on the same interval and p as the state the table folds', () => {
    const days = [
      { date: '2026-11-01', estimate: 0.1, pValue: 0.4, ci: [-0.3, 0.5] as [number, number] },
      { date: '2026-11-02', estimate: 0.2, pValue: 0.03, ci: [0.01, 0.4] as [number, number] },
      { date: '2026-11-03', estimate: 0.05, pValue: 0.3, ci: [-0.1, 0.2] as [number, number] },
    ];
    const series = monotoneSeries(key, days);
    let table: SequentialState | null = null;
    for (const d of days) table = advanceSequentialState(table, { key, pValue: d.pValue, ci: d.ci });
    const last = series[series.length - 1];
    expect(last.ci).toEqual(table?.ci);
    expect(last.pValue).toBe(table?.pValue);
    expect(series.map((d) => d.pValue)).toEqual([0.4, 0.03, 0.03]);
    expect(series.map((d) => d.ci)).toEqual([
      [-0.3, 0.5],
      [0.01, 0.4],
      [0.01, 0.2],
    ]);
  });
});
