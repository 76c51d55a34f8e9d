import { describe, expect, it } from 'vitest';
import { conversion, lognormal, simulate, SIMULATION_TIMEOUT_MS, type Scenario } from '../../../test/helpers/results-simulation';

/** Issue 15: A/A on 50/50 splits, 1,000 experiments × 50 peeks through the results path (see the helper). */
describe('seeded A/A simulations of the results path, 50/50, with the persisted state', () => {
  const aa: [string, Scenario][] = [
    ['conversion 5%, 50/50', { type: 'conversion', weights: [0.5, 0.5], total: 20_000, draw: conversion(0.05), lift: 1, planned: 10_000 }],
    ['lognormal σ = 2, 50/50', { type: 'mean', weights: [0.5, 0.5], total: 10_000, draw: lognormal(2), lift: 1, planned: 5000 }],
  ];
  it.each(aa)('keeps the false positive rate at or below 5%% over 50 peeks (%s), and never goes back', (_, s) => {
    const r = simulate(s, 15);
    expect(r.flips).toBe(0);
    expect(r.everSignificant).toBeLessThanOrEqual(0.05);
  }, SIMULATION_TIMEOUT_MS);
});
