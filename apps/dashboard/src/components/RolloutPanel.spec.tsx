import type { RolloutPlanDto } from '@strata/contracts';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment } from '../test-fixtures';
import { mockFetch, renderPage } from '../test-utils';
import { parseSteps, RolloutPanel } from './RolloutPanel';

afterEach(() => vi.unstubAllGlobals());

function plan(overrides: Partial<RolloutPlanDto> = {}): RolloutPlanDto {
  return {
    experiment: 'checkout',
    kind: 'traffic',
    steps: [
      { traffic: 1, minDurationSeconds: 3600, minExposedUnits: 100 },
      { traffic: 5, minDurationSeconds: 3600, minExposedUnits: 100 },
      { traffic: 20, minDurationSeconds: 7200, minExposedUnits: 0 },
    ],
    onHarm: 'last_safe',
    status: 'reverted',
    health: 'reverted',
    currentStep: 0,
    lastSafeStep: 0,
    traffic: 1,
    stepStartedAt: '2026-12-03T12:00:00.000Z',
    exposedUnits: 4200,
    unitsAtStepStart: 4200,
    waiting: { secondsLeft: 0, unitsLeft: 0, messages: [] },
    findings: [{ kind: 'guardrail_harm', message: 'Guardrail errors shows harm in treatment beyond the 5.00% threshold', details: {} }],
    revertReason: 'guardrails: Guardrail errors shows harm in treatment beyond the 5.00% threshold',
    checkedAt: '2026-12-03T12:00:00.000Z',
    history: [
      {
        at: '2026-12-03T10:00:00.000Z',
        action: 'create',
        fromStep: null,
        toStep: 0,
        traffic: 1,
        reason: 'plan created',
        actor: 'ada@example.com',
        details: {},
      },
      {
        at: '2026-12-03T11:00:00.000Z',
        action: 'advance',
        fromStep: 0,
        toStep: 1,
        traffic: 5,
        reason: 'step 0 held its minimums with healthy guardrails',
        actor: 'rollouts',
        details: {},
      },
      {
        at: '2026-12-03T12:00:00.000Z',
        action: 'revert',
        fromStep: 1,
        toStep: 0,
        traffic: 1,
        reason: 'guardrails: harm',
        actor: 'rollouts',
        details: {},
      },
    ],
    createdAt: '2026-12-03T10:00:00.000Z',
    updatedAt: '2026-12-03T12:00:00.000Z',
    ...overrides,
  };
}

async function axeViolations(root: HTMLElement): Promise<string[]> {
  const result = await axe.run(root, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('rollout panel', () => {
  it('shows the plan as a timeline: steps, when each started, why it reverted; resumes on click; axe-clean', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        url: '/v1/experiments/checkout/rollout/resume',
        method: 'POST',
        body: plan({
          status: 'running',
          health: 'waiting',
          waiting: { secondsLeft: 3600, unitsLeft: 100, messages: ['minimum duration: 3600 s to go', 'minimum exposed units: 100 more'] },
        }),
      },
      { url: '/v1/experiments/checkout/rollout', body: plan() },
    ]);
    const { container } = renderPage(<RolloutPanel experiment={experiment()} />);
    const steps = await screen.findByRole('list', { name: 'Rollout steps' });
    const items = within(steps).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveTextContent('Step 1: 1%');
    expect(items[0]).toHaveTextContent('at least 1 h and 100 units');
    expect(items[0]).toHaveAttribute('aria-current', 'step');
    expect(items[1]).toHaveTextContent('Step 2: 5%');
    expect(items[1]).toHaveTextContent('started');
    expect(items[2]).toHaveTextContent('not reached');
    expect(screen.getByText('Why it reverted').parentElement).toHaveTextContent('Guardrail errors shows harm in treatment');
    expect(await axeViolations(container)).toEqual([]);

    const controls = screen.getByRole('group', { name: 'Rollout controls' });
    expect(within(controls).queryByRole('button', { name: 'Pause' })).toBeNull();
    await user.click(within(controls).getByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(screen.getByText('Waiting for minimum duration: 3600 s to go')).toBeInTheDocument());
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ url: '/v1/experiments/checkout/rollout/resume' });
    expect(within(controls).getByRole('button', { name: 'Pause' })).toBeInTheDocument();
  });

  it('offers a plan form on a running experiment without one and sends the steps; axe-clean', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        url: '/v1/experiments/checkout/rollout',
        method: 'POST',
        status: 201,
        body: plan({ status: 'running', health: 'waiting', revertReason: null, findings: [] }),
      },
      {
        url: '/v1/experiments/checkout/rollout',
        status: 404,
        body: { error: { code: 'not_found', message: 'rollout plan "checkout" was not found.', details: [] } },
      },
    ]);
    const { container } = renderPage(<RolloutPanel experiment={experiment()} />);
    const form = await screen.findByRole('form', { name: 'Create rollout plan' });
    expect(await axeViolations(container)).toEqual([]);
    const stepsInput = within(form).getByLabelText('Steps (% of the layer, in order)');
    await user.clear(stepsInput);
    await user.type(stepsInput, '5, 1');
    expect(within(form).getByRole('alert')).toHaveTextContent('Steps must increase.');
    expect(within(form).getByRole('button', { name: 'Create rollout plan' })).toBeDisabled();
    await user.clear(stepsInput);
    await user.type(stepsInput, '1, 5, 20');
    await user.clear(within(form).getByLabelText('Minimum hours per step'));
    await user.type(within(form).getByLabelText('Minimum hours per step'), '2');
    await user.click(within(form).getByRole('button', { name: 'Create rollout plan' }));
    await screen.findByRole('list', { name: 'Rollout steps' });
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      steps: [1, 5, 20].map((traffic) => ({ traffic, minDurationSeconds: 7200, minExposedUnits: 1000 })),
      onHarm: 'last_safe',
    });
  });

  it('asks before a revert, says where the traffic goes, and reverts only on confirm', async () => {
    const user = userEvent.setup();
    const running = plan({
      status: 'running',
      health: 'waiting',
      currentStep: 1,
      lastSafeStep: 0,
      traffic: 5,
      revertReason: null,
      findings: [],
    });
    const calls = mockFetch([
      { url: '/v1/experiments/checkout/rollout/revert', method: 'POST', body: plan() },
      { url: '/v1/experiments/checkout/rollout', body: running },
    ]);
    renderPage(<RolloutPanel experiment={experiment()} />);
    await user.click(await screen.findByRole('button', { name: 'Revert' }));
    const dialog = screen.getByRole('dialog', { name: 'Revert the rollout?' });
    expect(dialog).toHaveTextContent('The traffic goes back to step 1 (1%)');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Revert' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ url: '/v1/experiments/checkout/rollout/revert' });
    expect(await screen.findByText('Why it reverted')).toBeInTheDocument();
  });

  it('shows a staged ship as a timeline of ship shares and says where a revert takes the share', async () => {
    const user = userEvent.setup();
    const ship = plan({
      kind: 'ship',
      steps: [
        { traffic: 10, minDurationSeconds: 3600, minExposedUnits: 100 },
        { traffic: 50, minDurationSeconds: 3600, minExposedUnits: 100 },
        { traffic: 100, minDurationSeconds: 0, minExposedUnits: 0 },
      ],
      status: 'running',
      health: 'waiting',
      currentStep: 1,
      lastSafeStep: 0,
      traffic: 50,
      exposedUnits: 3000,
      revertReason: null,
      findings: [],
    });
    mockFetch([{ url: '/v1/experiments/checkout/rollout', body: ship }]);
    renderPage(<RolloutPanel experiment={experiment({ status: 'shipped', shippedVariant: 'treatment', shipTraffic: 50 })} />);
    expect(await screen.findByRole('heading', { name: 'Staged ship' })).toBeInTheDocument();
    expect(screen.getByText(/the shipped winner goes to 50% of targeted units now/)).toHaveTextContent('3,000 units compared');
    const items = within(screen.getByRole('list', { name: 'Rollout steps' })).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent('Step 1: 10% of targeted units get the winner');
    expect(items[1]).toHaveAttribute('aria-current', 'step');
    await user.click(screen.getByRole('button', { name: 'Revert' }));
    expect(screen.getByRole('dialog', { name: 'Revert the rollout?' })).toHaveTextContent(
      'The ship share goes back to step 1 (10% of targeted units): units the lower share covers keep the winner',
    );
  });

  it('parses step lists', () => {
    expect(parseSteps('1, 5, 20%, 100')).toEqual([1, 5, 20, 100]);
    expect(parseSteps('')).toMatch(/at least one/);
    expect(parseSteps('1, 150')).toMatch(/not a percentage/);
  });
});
