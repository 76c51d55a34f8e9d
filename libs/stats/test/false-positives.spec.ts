import { describe, expect, it } from 'vitest';
import {
  createRng,
  msprt,
  ratioConfidenceSequence,
  ratioMetric,
  ratioMsprt,
  sequentialConfidenceSequence,
  twoProportionZTest,
  welchTTest,
  type RatioArmStats,
} from '../src';
import { bernoulliArms, everRejectRate, normalArms, peekSchedule, type SimulatedMethod } from './simulation';

/**
 * Seeded A/A simulation: 1,000 experiments, 50 evenly spaced peeks up to the planned 1,000 units
 * per arm, alpha 0.05. A sequential method must keep the chance of *ever* calling a winner at or
 * under alpha; the fixed-horizon Welch test read the same way must visibly inflate (> 15%), which
 * proves the simulation can detect inflation at all.
 */
const ALPHA = 0.05;
const PLANNED = 1000;
const SCHEDULE = peekSchedule(PLANNED, 50);

const sequentialMethods = (planned: number): SimulatedMethod[] => [
  {
    name: 'cs-absolute',
    rejects: (c, t) => sequentialConfidenceSequence(c, t, { alpha: ALPHA, plannedSampleSize: planned }).significant,
  },
  {
    name: 'cs-relative',
    rejects: (c, t) => sequentialConfidenceSequence(c, t, { alpha: ALPHA, plannedSampleSize: planned, relative: true }).significant,
  },
  { name: 'msprt-absolute', rejects: (c, t) => msprt(c, t, { alpha: ALPHA, plannedSampleSize: planned }).significant },
  { name: 'msprt-relative', rejects: (c, t) => msprt(c, t, { alpha: ALPHA, plannedSampleSize: planned, relative: true }).significant },
];
const SEQUENTIAL = ['cs-absolute', 'cs-relative', 'msprt-absolute', 'msprt-relative'];

const methods: SimulatedMethod[] = [
  { name: 'naive-welch', rejects: (c, t) => welchTTest(c, t, { alpha: ALPHA }).pValue <= ALPHA },
  ...sequentialMethods(PLANNED),
];

describe('A/A simulation with 50 peeks', () => {
  const rates = everRejectRate(20260505, 1000, SCHEDULE, normalArms(10, 10, 2), methods);

  it('shows the naive fixed-horizon test inflating far above alpha when peeked 50 times', () => {
    expect(rates['naive-welch']).toBeGreaterThan(0.15);
  });

  it.each(SEQUENTIAL)('keeps the false positive rate of %s under alpha with 50 peeks', (name) => {
    expect(rates[name]).toBeLessThanOrEqual(ALPHA);
  });

  it('reports the simulated rates', () => {
    // Printed so a reviewer can see the margins, not only pass/fail.
    console.log('A/A ever-reject rates (1,000 experiments x 50 peeks):', rates);
    expect(Object.keys(rates)).toHaveLength(methods.length);
  });
});

describe('A/A simulation on a 10% conversion rate with 50 peeks', () => {
  // Same design on 0/1 outcomes up to 2,000 units per arm: the first peek sees ~4 conversions per
  // arm, where the asymptotics behind every method are at their weakest.
  const planned = 2000;
  const rates = everRejectRate(777, 1000, peekSchedule(planned, 50), bernoulliArms(0.1, 0.1), [
    { name: 'naive-z', rejects: (c, t) => twoProportionZTest(c, t, { alpha: ALPHA }).pValue <= ALPHA },
    ...sequentialMethods(planned),
  ]);

  it('shows the naive two-proportion z-test inflating when peeked 50 times', () => {
    console.log('A/A conversions ever-reject rates (1,000 experiments x 50 peeks):', rates);
    expect(rates['naive-z']).toBeGreaterThan(0.15);
  });

  it.each(SEQUENTIAL)('keeps the false positive rate of %s on conversions under alpha', (name) => {
    expect(rates[name]).toBeLessThanOrEqual(ALPHA);
  });
});

describe('A/A simulation on a ratio metric (revenue per session) with 50 peeks', () => {
  // Users have 1–5 sessions and revenue proportional to sessions plus noise, so numerator and
  // denominator are strongly correlated, as in real ratio metrics. Sufficient stats accumulate
  // incrementally, as in the other simulations.
  const planned = 1000;
  const schedule = peekSchedule(planned, 50);
  const rng = createRng(4711);
  const names = ['naive-ratio', 'cs-absolute', 'cs-relative', 'msprt-absolute'] as const;
  const hits: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const add = (a: RatioArmStats) => {
    const den = 1 + Math.floor(rng.uniform() * 5);
    const num = Math.max(0, den * (5 + 2 * rng.normal()));
    a.n += 1;
    a.sumNum += num;
    a.sumNumSq += num * num;
    a.sumDen += den;
    a.sumDenSq += den * den;
    a.sumNumDen += num * den;
  };
  for (let e = 0; e < 1000; e++) {
    const c: RatioArmStats = { n: 0, sumNum: 0, sumNumSq: 0, sumDen: 0, sumDenSq: 0, sumNumDen: 0 };
    const t: RatioArmStats = { ...c };
    const seen = new Set<string>();
    for (const n of schedule) {
      while (c.n < n) add(c);
      while (t.n < n) add(t);
      if (ratioMetric(c, t).significant) seen.add('naive-ratio');
      if (ratioConfidenceSequence(c, t, { plannedSampleSize: planned }).significant) seen.add('cs-absolute');
      if (ratioConfidenceSequence(c, t, { plannedSampleSize: planned, relative: true }).significant) seen.add('cs-relative');
      if (ratioMsprt(c, t, { plannedSampleSize: planned }).significant) seen.add('msprt-absolute');
    }
    for (const name of seen) hits[name] += 1;
  }
  const rates = Object.fromEntries(names.map((n) => [n, hits[n] / 1000]));

  it('shows the naive delta-method test inflating when peeked 50 times', () => {
    console.log('A/A ratio-metric ever-reject rates (1,000 experiments x 50 peeks):', rates);
    expect(rates['naive-ratio']).toBeGreaterThan(0.15);
  });

  it.each(['cs-absolute', 'cs-relative', 'msprt-absolute'])('keeps the false positive rate of %s on a ratio metric under alpha', (name) => {
    expect(rates[name]).toBeLessThanOrEqual(ALPHA);
  });
});
