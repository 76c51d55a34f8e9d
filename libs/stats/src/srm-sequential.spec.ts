import { describe, expect, it } from 'vitest';
import { verdictReference } from '../test/reference/verdict-reference-values';
import { expectRelClose } from '../test/helpers';
import { StatsInputError } from './input-error';
import { logGamma } from './log-gamma';
import { mulberry32 } from './random';
import { srmTest } from './srm';
import { advanceSrmState, sequentialSrmTest, srmLogEValue, type SrmState } from './srm-sequential';

describe('logGamma', () => {
  it.each(verdictReference.logGamma)('matches scipy.special.gammaln at $x', ({ x, value }) => {
    if (value === 0) expect(Math.abs(logGamma(x))).toBeLessThan(1e-14);
    else expectRelClose(logGamma(x), value, 1e-13);
  });
});

describe('srmLogEValue', () => {
  it.each(verdictReference.srm)('matches SciPy dirichlet_multinomial − multinomial for $counts / $weights', (c) => {
    const got = srmLogEValue(c.counts, c.weights, c.concentration);
    expect(Math.abs(got - c.logE)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c.logE)));
  });

  it('rejects unusable inputs with clear errors', () => {
    expect(() => srmLogEValue([1, 2], [1])).toThrow(/differ in length/);
    expect(() => srmLogEValue([1, -2], [1, 1])).toThrow(StatsInputError);
    expect(() => srmLogEValue([1, 2], [1, 0])).toThrow(/positive/);
  });
});

describe('advanceSrmState', () => {
  it('keeps the running maximum of the e-value, so p never rises', () => {
    let s = advanceSrmState(null, [5300, 4700], [1, 1]);
    const flaggedP = s.pValue;
    expect(s.flagged).toBe(true);
    s = advanceSrmState(s, [10100, 9900], [1, 1]);
    expect(s.logE).toBeLessThan(s.maxLogE);
    expect(s.pValue).toBe(flaggedP);
    expect(s.flagged).toBe(true);
    expect(s.checks).toBe(2);
  });

  it('refuses decreasing cumulative counts and restarts when the weights change', () => {
    const s = advanceSrmState(null, [100, 100], [1, 1]);
    expect(() => advanceSrmState(s, [99, 120], [1, 1])).toThrow(/decreased/);
    const t = advanceSrmState(s, [90, 10], [9, 1]);
    expect(t.checks).toBe(1);
  });
});

/**
 * The reproduction: 1,000 healthy 50/50 experiments with 2,400 units a day, checked every
 * hour (24 ticks a day) for 30 days. The fixed-horizon chi-square re-tested at every tick flags ≥ 1%
 * of them at p < 0.001 (the bug: 3.5% in the review); the anytime-valid test flags ≤ 0.1%.
 */
describe('sequential SRM simulation', () => {
  const DAYS = 30;
  const TICKS = 24;
  const PER_TICK = 100;

  function run(seed: number, experiments: number, share: number): { seqFlagDay: number[]; chiFlagged: number } {
    const u = mulberry32(seed);
    const seqFlagDay: number[] = [];
    let chiFlagged = 0;
    for (let e = 0; e < experiments; e++) {
      const counts = [0, 0];
      let state: SrmState | null = null;
      let flagDay = -1;
      let chi = false;
      for (let d = 0; d < DAYS; d++) {
        for (let t = 0; t < TICKS; t++) {
          for (let i = 0; i < PER_TICK; i++) counts[u() < share ? 0 : 1] += 1;
          state = advanceSrmState(state, counts, [1, 1]);
          if (state.flagged && flagDay < 0) flagDay = d + 1;
          if (!chi && srmTest(counts, [1, 1]).flagged) chi = true;
        }
      }
      if (flagDay > 0) seqFlagDay.push(flagDay);
      if (chi) chiFlagged += 1;
    }
    return { seqFlagDay, chiFlagged };
  }

  it('flags at most 0.1% of 1,000 healthy 50/50 experiments checked 720 times each', { timeout: 60_000 }, () => {
    const r = run(20261203, 1000, 0.5);
    console.log(`healthy 50/50: sequential flagged ${r.seqFlagDay.length}/1000, per-tick chi-square flagged ${r.chiFlagged}/1000`);
    expect(r.seqFlagDay.length / 1000).toBeLessThanOrEqual(0.001);
    // The simulation is sensitive enough to show the old test's inflation.
    expect(r.chiFlagged / 1000).toBeGreaterThan(0.01);
  });

  it('flags every 52/48 split on 50/50 weights within the 30 days', { timeout: 60_000 }, () => {
    const r = run(77, 50, 0.52);
    const sorted = [...r.seqFlagDay].sort((a, b) => a - b);
    console.log(
      `52/48: flagged ${sorted.length}/50, median day ${sorted[Math.floor(sorted.length / 2)]}, last ${sorted[sorted.length - 1]}`,
    );
    expect(sorted.length).toBe(50);
  });

  it('reports p = min(1, 1/E) for a one-shot check', () => {
    const once = sequentialSrmTest([36500, 35500], [1, 1]);
    expect(once.pValue).toBeCloseTo(Math.min(1, Math.exp(-srmLogEValue([36500, 35500], [1, 1]))), 15);
  });
});
