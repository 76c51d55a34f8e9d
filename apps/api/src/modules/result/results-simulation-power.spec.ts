import { sampleSizeSequential } from '@strata/stats';
import { describe, expect, it } from 'vitest';
import { conversion, simulate, SIMULATION_TIMEOUT_MS, type Scenario } from '../../../test/helpers/results-simulation';

/** Issue 15: power at the planned size, 1,000 experiments × 50 peeks through the results path (see the helper). */
describe('seeded A/B simulation of the results path, with the persisted state', () => {
  it('detects a 3% relative lift (conversion 10%) with at least 80% power at the planned size sampleSizeSequential gives, and never goes back', () => {
    const plan = sampleSizeSequential({ mde: 0.03, baselineRate: 0.1, alpha: 0.05, power: 0.8 });
    const s: Scenario = { type: 'conversion', weights: [0.5, 0.5], total: 2 * plan.perArm, draw: conversion(0.1), lift: 1.03, planned: plan.perArm };
    const r = simulate(s, 16);
    expect(r.flips).toBe(0);
    expect(r.everSignificant).toBeGreaterThanOrEqual(0.8);
  }, SIMULATION_TIMEOUT_MS);
});
