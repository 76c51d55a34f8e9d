import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeRamp } from '../lib/traffic';
import { experiment, layer } from '../test-fixtures';
import { mockFetch, renderPage } from '../test-utils';
import { LifecycleActions } from './LifecycleActions';

afterEach(() => vi.unstubAllGlobals());

describe('lifecycle confirmations', () => {
  it('describes ramps up and down in buckets and what happens to units already in', () => {
    expect(describeRamp(10, 50)).toBe(
      'Ramping from 10% to 50% adds 4,000 buckets; the 1,000 buckets already held stay, so every unit already in keeps its variant.',
    );
    expect(describeRamp(50, 20)).toMatch(
      /^Ramping down from 50% to 20% releases 3,000 buckets; units in those buckets leave the experiment/,
    );
  });

  it('asks before ramping, says what will happen, and sends the new traffic only on confirm', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/ramp', body: experiment({ traffic: 50 }) },
    ]);
    renderPage(<LifecycleActions experiment={experiment()} />);
    await user.click(screen.getByRole('button', { name: 'Ramp traffic' }));
    const dialog = screen.getByRole('dialog', { name: 'Ramp traffic' });
    await user.clear(screen.getByLabelText('New traffic (% of the layer)'));
    await user.type(screen.getByLabelText('New traffic (% of the layer)'), '50');
    expect(dialog).toHaveTextContent(
      'Ramping from 10% to 50% adds 4,000 buckets; the 1,000 buckets already held stay, so every unit already in keeps its variant.',
    );
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Set traffic to 50%' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ url: '/v1/experiments/checkout/ramp', body: { traffic: 50 } });
  });

  it('Escape closes the dialog without doing anything and focus returns to the button', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([{ url: '/v1/layers/homepage', body: layer() }]);
    renderPage(<LifecycleActions experiment={experiment()} />);
    const stop = screen.getByRole('button', { name: 'Stop' });
    await user.click(stop);
    const dialog = screen.getByRole('dialog', { name: 'Stop “Checkout button”?' });
    expect(dialog).toHaveTextContent('the 1,000 buckets it holds return to the layer');
    // Focus starts inside and Tab cycles within the dialog.
    expect(dialog.contains(document.activeElement)).toBe(true);
    for (let i = 0; i < 5; i++) {
      await user.tab();
      expect(dialog.contains(document.activeElement)).toBe(true);
    }
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(stop).toHaveFocus();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('ships the chosen variant and says it goes to everyone in targeting', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/ship', body: experiment({ status: 'shipped', shippedVariant: 'treatment' }) },
    ]);
    renderPage(<LifecycleActions experiment={experiment()} />);
    await user.click(screen.getByRole('button', { name: 'Ship a variant' }));
    expect(screen.getByRole('dialog')).toHaveTextContent(
      'Shipping gives “Green button” (treatment) to every unit that matches the targeting',
    );
    await user.click(screen.getByRole('button', { name: 'Ship treatment' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ variant: 'treatment' });
  });

  it('shows the API error inside the dialog when the transition is refused', async () => {
    const user = userEvent.setup();
    mockFetch([
      { url: '/v1/layers/homepage', body: layer({ freeBuckets: 0 }) },
      {
        method: 'POST',
        url: '/v1/experiments/checkout/start',
        status: 409,
        body: { error: { code: 'insufficient_capacity', message: 'Layer "homepage" has 0 free buckets; 1000 are needed.', details: [] } },
      },
    ]);
    renderPage(<LifecycleActions experiment={experiment({ status: 'draft', ranges: [] })} />);
    await user.click(screen.getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.getByRole('dialog')).toHaveTextContent('(0 are free now)'));
    await user.click(screen.getByRole('button', { name: 'Start experiment' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Layer "homepage" has 0 free buckets; 1000 are needed.');
  });

  it('offers Conclude for a shipped experiment, explains that it leaves the payloads, and concludes only on confirm', async () => {
    const user = userEvent.setup();
    const shipped = experiment({ status: 'shipped', shippedVariant: 'treatment', ranges: [], stoppedAt: '2026-11-20T10:00:00.000Z' });
    const calls = mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { method: 'POST', url: '/v1/experiments/checkout/conclude', body: { ...shipped, status: 'concluded', concludedAt: '2026-11-25T10:00:00.000Z' } },
    ]);
    renderPage(<LifecycleActions experiment={shipped} />);
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Conclude' }));
    const dialog = screen.getByRole('dialog', { name: 'Conclude “Checkout button”?' });
    expect(dialog).toHaveTextContent('Conclude once the experiment\'s code is removed from your apps.');
    expect(dialog).toHaveTextContent('it leaves every /v1/assign reply and the SDK configuration');
    expect(dialog).toHaveTextContent('Its results, exports and audit history stay readable. This cannot be undone.');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Conclude experiment' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ url: '/v1/experiments/checkout/conclude' });
  });

  it('offers Conclude for stopped experiments but not for running, draft or concluded ones', () => {
    mockFetch([{ url: '/v1/layers/homepage', body: layer() }]);
    const { unmount } = renderPage(<LifecycleActions experiment={experiment({ status: 'stopped', ranges: [] })} />);
    expect(screen.getByRole('button', { name: 'Conclude' })).toBeInTheDocument();
    unmount();
    for (const status of ['running', 'draft', 'concluded'] as const) {
      const r = renderPage(<LifecycleActions experiment={experiment({ status })} />);
      expect(screen.queryByRole('button', { name: 'Conclude' })).toBeNull();
      r.unmount();
    }
  });
});
