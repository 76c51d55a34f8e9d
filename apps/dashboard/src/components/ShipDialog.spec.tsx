import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, layer, metricResult, results, row } from '../test-fixtures';
import { mockFetch, renderPage } from '../test-utils';
import { LifecycleActions } from './LifecycleActions';

afterEach(() => vi.unstubAllGlobals());

const shippedStaged = experiment({ status: 'shipped', shippedVariant: 'treatment', shipTraffic: 10, ranges: [] });

async function openStaged(user: ReturnType<typeof userEvent.setup>) {
  renderPage(<LifecycleActions experiment={experiment()} />);
  await user.click(screen.getByRole('button', { name: 'Ship a variant' }));
  const dialog = screen.getByRole('dialog', { name: 'Ship a variant' });
  expect(within(dialog).getByRole('radio', { name: 'Ship to everyone' })).toBeChecked();
  await user.click(within(dialog).getByRole('radio', { name: 'Ship in stages' }));
  return dialog;
}

describe('ship dialog: in stages', () => {
  it('sends the default plan 10 → 50 → 100 % with the minimums on the steps below 100 %', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/ship', body: shippedStaged },
    ]);
    const dialog = await openStaged(user);
    expect(screen.getByLabelText('Steps (% of targeted units given the winner, in order)')).toHaveValue('10, 50, 100');
    expect(dialog).toHaveTextContent(
      'Shipping in stages gives “Green button” (treatment) to 10 % of the units that match the targeting at once (the others see the default), then 50 %, then 100 %.',
    );
    expect(dialog).toHaveTextContent('on harm the share goes back to the last safe step');
    await user.click(screen.getByRole('button', { name: 'Ship treatment in stages' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      expect.objectContaining({
        url: '/v1/experiments/checkout/ship',
        body: {
          variant: 'treatment',
          rollout: {
            steps: [
              { traffic: 10, minDurationSeconds: 86_400, minExposedUnits: 1000 },
              { traffic: 50, minDurationSeconds: 86_400, minExposedUnits: 1000 },
              { traffic: 100, minDurationSeconds: 0, minExposedUnits: 0 },
            ],
            onHarm: 'last_safe',
          },
        },
      }),
    ]);
  });

  it('sends the edited steps, minimums and "to 0" on harm', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/ship', body: shippedStaged },
    ]);
    const dialog = await openStaged(user);
    const steps = screen.getByLabelText('Steps (% of targeted units given the winner, in order)');
    await user.clear(steps);
    await user.type(steps, '5, 25, 60');
    await user.clear(screen.getByLabelText('Minimum hours per step'));
    await user.type(screen.getByLabelText('Minimum hours per step'), '1.5');
    await user.clear(screen.getByLabelText('Minimum exposed units per step'));
    await user.type(screen.getByLabelText('Minimum exposed units per step'), '250');
    await user.selectOptions(screen.getByLabelText('On guardrail harm, the share goes'), 'zero');
    expect(dialog).toHaveTextContent('on harm the share goes to 0 % (everyone sees the default)');
    await user.click(screen.getByRole('button', { name: 'Ship treatment in stages' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      variant: 'treatment',
      rollout: {
        steps: [
          { traffic: 5, minDurationSeconds: 5400, minExposedUnits: 250 },
          { traffic: 25, minDurationSeconds: 5400, minExposedUnits: 250 },
          { traffic: 60, minDurationSeconds: 5400, minExposedUnits: 250 },
        ],
        onHarm: 'zero',
      },
    });
  });

  it('says what is wrong in words, focuses the first wrong field and sends nothing until it is fixed', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/ship', body: shippedStaged },
    ]);
    await openStaged(user);
    const steps = screen.getByLabelText('Steps (% of targeted units given the winner, in order)');
    const hours = screen.getByLabelText('Minimum hours per step');
    const units = screen.getByLabelText('Minimum exposed units per step');
    await user.clear(steps);
    await user.type(steps, '50, 10');
    await user.clear(hours);
    await user.type(hours, '-2');
    await user.clear(units);
    await user.type(units, '2.5');
    // Nothing is flagged before a ship is attempted.
    expect(steps).not.toHaveAttribute('aria-invalid');
    await user.click(screen.getByRole('button', { name: 'Ship treatment in stages' }));
    expect(steps).toHaveFocus();
    expect(steps).toHaveAttribute('aria-invalid', 'true');
    expect(steps).toHaveAccessibleDescription('Steps must increase.');
    expect(hours).toHaveAccessibleDescription('Give the minimum time per step in hours, 0 or more (e.g. 24).');
    expect(units).toHaveAccessibleDescription('Give the minimum exposed units per step as a whole number, 0 or more (e.g. 1000).');

    await user.clear(steps);
    await user.type(steps, '10, 101');
    expect(steps).toHaveAccessibleDescription('“101” is not a percentage between 0 and 100.');
    await user.clear(steps);
    await user.type(steps, '10, 100');
    expect(steps).not.toHaveAttribute('aria-invalid');
    await user.click(screen.getByRole('button', { name: 'Ship treatment in stages' }));
    expect(hours).toHaveFocus();
    await user.clear(hours);
    await user.type(hours, '3000');
    expect(hours).toHaveAccessibleDescription('A step lasts at most 90 days (2,160 hours).');
    await user.clear(hours);
    await user.type(hours, '2');
    await user.click(screen.getByRole('button', { name: 'Ship treatment in stages' }));
    expect(units).toHaveFocus();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    await user.clear(units);
    await user.type(units, '0');
    await user.click(screen.getByRole('button', { name: 'Ship treatment in stages' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toMatchObject({
      rollout: { steps: [{ traffic: 10, minDurationSeconds: 7200, minExposedUnits: 0 }, { traffic: 100 }] },
    });
  });

  it('keeps the warning on a winner that is not significant, in stages as well', async () => {
    const user = userEvent.setup();
    const t = row('treatment', false, inference(0.05, [-0.01, 0.11], false, 0.09));
    mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { url: '/v1/experiments/checkout/results', body: results([metricResult([row('control', true, null), t])]) },
    ]);
    await openStaged(user);
    expect(await screen.findByTestId('ship-warning')).toHaveTextContent('treatment is not a significant winner on Purchase rate');
  });

  it('still ships to everyone with only the variant when the default is kept', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/ship', body: experiment({ status: 'shipped', shippedVariant: 'control' }) },
    ]);
    renderPage(<LifecycleActions experiment={experiment()} />);
    await user.click(screen.getByRole('button', { name: 'Ship a variant' }));
    await user.selectOptions(screen.getByLabelText('Variant to ship'), 'control');
    expect(screen.queryByLabelText('Minimum hours per step')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Ship control' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ variant: 'control' });
  });
});
