import { createRng, type Rng, type SrmState } from '@strata/stats';
import { describe, expect, it } from 'vitest';
import type { AnalysisDefinition } from '../result/analysis-definition';
import { buildSrm } from '../result/results-builder';
import { findings, nextSrmState, withSequentialSrm } from './guardrail.service';

/**
 * Sequential SRM acceptance (issue 15) through the guardrail check's own functions, as
 * GuardrailService.check runs them after every tick: buildSrm on the cumulative counts,
 * nextSrmState on the stored state (JSON round trip, as the jsonb column), withSequentialSrm and
 * findings with the anytime-valid flag. Every simulated experiment is checked every tick (every
 * 6 hours) for 30 days: 120 checks, 1,200 units per tick (4,800 a day).
 */

const def: AnalysisDefinition = {
  key: 'srm-sim', status: 'running', variants: [{ key: 'control', name: 'control', weight: 0.5 }, { key: 'treatment', name: 'treatment', weight: 0.5 }],
  startedAt: new Date('2026-01-01T00:00:00Z'), stoppedAt: null, plannedSampleSize: null, minDurationDays: null, autoStop: true, alerts: [], metrics: [], segmentDimensions: [],
};
/** A check every 6 simulated hours (each check is one tick's). */
const TICKS = 30 * 4;

/** Binomial(n, p) by the normal approximation (n·p ≥ 100 here), rounded to a count. */
function binomial(rng: Rng, n: number, p: number): number {
  return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * rng.normal())));
}

/** Share of experiments with an SRM finding at some tick, and the first flagged tick of each. */
function run(experiments: number, unitsPerTick: number, treatmentShare: number, seed: number): { flagged: number; firstTick: number[] } {
  const rng = createRng(seed);
  let flagged = 0;
  const firstTick: number[] = [];
  for (let x = 0; x < experiments; x++) {
    let stored: string | null = null;
    const counts = { control: 0, treatment: 0 };
    for (let tick = 1; tick <= TICKS; tick++) {
      const t = binomial(rng, unitsPerTick, treatmentShare);
      counts.treatment += t;
      counts.control += unitsPerTick - t;
      const srm = buildSrm(def, new Map(Object.entries(counts)));
      if (!srm) continue;
      const state = nextSrmState(stored === null ? null : (JSON.parse(stored) as SrmState), def, srm);
      stored = JSON.stringify(state);
      const sequential = withSequentialSrm(srm, state);
      if (findings([], sequential ? { ...sequential, flagged: state.flagged } : srm).some((f) => f.kind === 'srm')) {
        flagged++;
        firstTick.push(tick);
        break;
      }
    }
  }
  return { flagged: flagged / experiments, firstTick };
}

describe('anytime-valid SRM checked after every tick for 30 days', () => {
  it('flags healthy 50/50 experiments at most at the 0.001 level (1,000 experiments × 120 checks)', () => {
    const r = run(1000, 1200, 0.5, 81);
    expect(r.flagged).toBeLessThanOrEqual(0.001);
  }, 120_000);

  it('flags a 52/48 split on 50/50 weights within the run, every time', () => {
    const r = run(50, 1200, 0.52, 82);
    expect(r.flagged).toBe(1);
    // 4,800 units a day, 144,000 by day 30: flagged well inside the run.
    expect(Math.max(...r.firstTick)).toBeLessThan(TICKS);
  }, 120_000);
});
