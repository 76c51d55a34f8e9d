import { describe, expect, it } from 'vitest';
import { msprt, sequentialConfidenceSequence, welchTTest } from '../src';
import { everRejectRate, peekSchedule, type SimulatedMethod } from './simulation';

/**
 * Seeded A/A simulation: 1,000 experiments, 50 evenly spaced peeks up to the planned 1,000 units
 * per arm, alpha 0.05. A sequential method must keep the chance of *ever* calling a winner at or
 * under alpha; the fixed-horizon Welch test read the same way must visibly inflate (> 15%), which
 * proves the simulation can detect inflation at all.
 */
const ALPHA = 0.05;
const PLANNED = 1000;
const SCHEDULE = peekSchedule(PLANNED, 50);

const methods: SimulatedMethod[] = [
  { name: 'naive-welch', rejects: (c, t) => welchTTest(c, t, { alpha: ALPHA }).pValue <= ALPHA },
  {
    name: 'cs-absolute',
    rejects: (c, t) => sequentialConfidenceSequence(c, t, { alpha: ALPHA, plannedSampleSize: PLANNED }).significant,
  },
  {
    name: 'cs-relative',
    rejects: (c, t) => sequentialConfidenceSequence(c, t, { alpha: ALPHA, plannedSampleSize: PLANNED, relative: true }).significant,
  },
  { name: 'msprt-absolute', rejects: (c, t) => msprt(c, t, { alpha: ALPHA, plannedSampleSize: PLANNED }).significant },
  { name: 'msprt-relative', rejects: (c, t) => msprt(c, t, { alpha: ALPHA, plannedSampleSize: PLANNED, relative: true }).significant },
];

describe('A/A simulation with 50 peeks', () => {
  const rates = everRejectRate(20260505, 1000, SCHEDULE, { controlMean: 10, treatmentMean: 10, sd: 2 }, methods);

  it('shows the naive fixed-horizon test inflating far above alpha when peeked 50 times', () => {
    expect(rates['naive-welch']).toBeGreaterThan(0.15);
  });

  it.each(['cs-absolute', 'cs-relative', 'msprt-absolute', 'msprt-relative'])(
    'keeps the false positive rate of %s under alpha with 50 peeks',
    (name) => {
      expect(rates[name]).toBeLessThanOrEqual(ALPHA);
    },
  );

  it('reports the simulated rates', () => {
    // Printed so a reviewer can see the margins, not only pass/fail.
    console.log('A/A ever-reject rates (1,000 experiments x 50 peeks):', rates);
    expect(Object.keys(rates)).toHaveLength(methods.length);
  });
});
