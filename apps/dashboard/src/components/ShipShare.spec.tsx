import type { RolloutPlanDto } from '@strata/contracts';
import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExperimentDetailPage } from '../pages/ExperimentDetailPage';
import { experiment, layer } from '../test-fixtures';
import { mockFetch, page, renderPage } from '../test-utils';
import { describeShipShare } from './ShipShare';

afterEach(() => vi.unstubAllGlobals());

const staged = experiment({
  status: 'shipped',
  shippedVariant: 'treatment',
  shipTraffic: 10,
  ranges: [],
  stoppedAt: '2026-12-01T10:00:00.000Z',
});

function shipPlan(overrides: Partial<RolloutPlanDto> = {}): RolloutPlanDto {
  return {
    experiment: 'checkout',
    kind: 'ship',
    steps: [
      { traffic: 10, minDurationSeconds: 86_400, minExposedUnits: 1000 },
      { traffic: 50, minDurationSeconds: 86_400, minExposedUnits: 1000 },
      { traffic: 100, minDurationSeconds: 0, minExposedUnits: 0 },
    ],
    onHarm: 'last_safe',
    status: 'running',
    health: 'waiting',
    currentStep: 0,
    lastSafeStep: null,
    traffic: 10,
    stepStartedAt: '2026-12-01T10:00:00.000Z',
    exposedUnits: 120,
    unitsAtStepStart: 0,
    waiting: { secondsLeft: 3600, unitsLeft: 880, messages: ['minimum duration: 3600 s to go'] },
    findings: [],
    revertReason: null,
    checkedAt: '2026-12-01T11:00:00.000Z',
    history: [],
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T11:00:00.000Z',
    ...overrides,
  };
}

describe('staged ship share in the header', () => {
  it('says who has the winner now and where the plan stands, in each plan state', () => {
    expect(describeShipShare(staged, shipPlan())).toBe('Shipped treatment to 10 % of targeted units, rolling out: step 1 of 3');
    expect(describeShipShare({ ...staged, shipTraffic: 50 }, shipPlan({ status: 'paused', currentStep: 1, traffic: 50 }))).toBe(
      'Shipped treatment to 50 % of targeted units, rollout paused at step 2 of 3',
    );
    expect(describeShipShare({ ...staged, shipTraffic: 0 }, shipPlan({ status: 'reverted', currentStep: null, traffic: 0 }))).toBe(
      'Shipped treatment to 0 % of targeted units, rollout reverted to 0 %',
    );
    expect(describeShipShare({ ...staged, shipTraffic: 100 }, shipPlan({ status: 'completed', currentStep: 2, traffic: 100 }))).toBe(
      'Shipped treatment to 100 % of targeted units, rollout completed',
    );
    expect(describeShipShare({ ...staged, shipTraffic: 12.5 }, null)).toBe(
      'Shipped treatment to 12.5 % of targeted units (a fixed share, moved by hand with a ramp)',
    );
  });

  it('says nothing for a full ship or a running experiment', () => {
    expect(describeShipShare(experiment({ status: 'shipped', shippedVariant: 'treatment' }), null)).toBeNull();
    expect(describeShipShare(experiment(), shipPlan())).toBeNull();
  });

  it('shows the share and the step under the experiment title', async () => {
    mockFetch([
      { url: '/v1/experiments/checkout/rollout', body: shipPlan() },
      { url: '/v1/layers/homepage', body: layer() },
      { url: '/v1/audit', body: page([]) },
      { url: '/v1/metrics', body: page([]) },
      { url: /\/v1\/experiments\/checkout$/, body: staged },
    ]);
    renderPage(<ExperimentDetailPage />, { path: '/experiments/:key', route: '/experiments/checkout' });
    const share = await screen.findByTestId('ship-share');
    await screen.findByText('Shipped treatment to 10 % of targeted units, rolling out: step 1 of 3.');
    expect(share.closest('.page-head')).not.toBeNull();
    expect(screen.getByRole('heading', { level: 2, name: 'Staged ship' })).toBeInTheDocument();
  });
});
