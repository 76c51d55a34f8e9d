import { describe, expect, it } from 'vitest';
import { experiment } from '../test-fixtures';
import { buildCreateRequest, buildUpdateRequest, draftFromExperiment } from './experiment-draft';

describe('experiment draft', () => {
  it('round-trips an experiment into the create body', () => {
    const e = experiment({
      targeting: { match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['US', 'CA'] }] },
      forcedVariants: [{ unitId: 'qa-1', variant: 'treatment', expiresAt: null }],
      secondaryMetrics: ['revenue'],
      plannedSampleSize: 20000,
    });
    expect(buildCreateRequest(draftFromExperiment(e))).toEqual({
      key: 'checkout',
      name: 'Checkout button',
      hypothesis: '',
      layer: 'homepage',
      variants: [
        { key: 'control', name: 'Control', weight: 0.5 },
        { key: 'treatment', name: 'Green button', weight: 0.5 },
      ],
      traffic: 10,
      targeting: { match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['US', 'CA'] }] },
      forcedVariants: [{ unitId: 'qa-1', variant: 'treatment', expiresAt: null }],
      primaryMetric: 'purchase',
      secondaryMetrics: ['revenue'],
      guardrailMetrics: [],
      plannedSampleSize: 20000,
      autoStop: true,
    });
  });

  it('leaves variants, layer and traffic out of the PATCH of a started experiment', () => {
    const e = experiment({ status: 'running' });
    const body = buildUpdateRequest({ ...draftFromExperiment(e), name: 'Renamed' }, e);
    expect(body).not.toHaveProperty('variants');
    expect(body).not.toHaveProperty('layer');
    expect(body).not.toHaveProperty('traffic');
    expect(body.name).toBe('Renamed');
  });

  it('leaves the locked metrics out of the PATCH of a started experiment, so an edit cannot be refused for them', () => {
    const e = experiment({ status: 'running', secondaryMetrics: ['revenue'], guardrailMetrics: ['latency'] });
    const body = buildUpdateRequest({ ...draftFromExperiment(e), primaryMetric: 'revenue', hypothesis: 'Green converts' }, e);
    expect(body).not.toHaveProperty('primaryMetric');
    expect(body).not.toHaveProperty('secondaryMetrics');
    expect(body).not.toHaveProperty('guardrailMetrics');
    expect(body.hypothesis).toBe('Green converts');
  });

  it('sends variants and traffic when editing a draft', () => {
    const e = experiment({ status: 'draft', ranges: [] });
    const body = buildUpdateRequest({ ...draftFromExperiment(e), traffic: '25' }, e);
    expect(body.traffic).toBe(25);
    expect(body.variants).toHaveLength(2);
  });
});
