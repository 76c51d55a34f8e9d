import type { MetricDto, MetricUsageDto } from '@strata/contracts';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { MetricDetailPage } from './MetricDetailPage';

afterEach(() => vi.unstubAllGlobals());

const metric: MetricDto = {
  key: 'checkout',
  name: 'Checkout rate',
  description: 'Share of users who complete a checkout.',
  type: 'conversion',
  eventName: 'checkout_done',
  denominatorEventName: null,
  direction: 'increase',
  winsorizePercentile: null,
  harmThreshold: 0.02,
  attributionWindowHours: 48,
  cupedLookbackDays: 14,
  archivedAt: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};
const usage: MetricUsageDto = {
  metric: 'checkout',
  usedBy: [
    { key: 'new-cart', name: 'New cart', status: 'running', role: 'primary' },
    { key: 'fast-pay', name: 'Fast pay', status: 'draft', role: 'guardrail' },
  ],
};

const render = () => renderPage(<MetricDetailPage />, { path: '/metrics/:key', route: '/metrics/checkout' });

describe('metric detail', () => {
  it('shows the definition and the experiments using it, linked', async () => {
    mockFetch([
      { url: '/v1/metrics/checkout/usage', body: usage },
      { url: '/v1/metrics/checkout', body: metric },
    ]);
    render();
    expect(await screen.findByRole('heading', { level: 1, name: 'Checkout rate' })).toBeInTheDocument();
    expect(screen.getByText('Share of users who complete a checkout.')).toBeInTheDocument();
    expect(screen.getByText('checkout_done')).toBeInTheDocument();
    expect(screen.getByText('higher is better')).toBeInTheDocument();
    expect(screen.getByText('48 hours after first exposure')).toBeInTheDocument();
    const table = await screen.findByRole('table', { name: 'Experiments using this metric' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(
      rows.map((r) =>
        within(r)
          .getAllByRole('cell')
          .map((c) => c.textContent),
      ),
    ).toEqual([
      ['New cartnew-cart', 'primary', 'running'],
      ['Fast payfast-pay', 'guardrail', 'draft'],
    ]);
    expect(within(table).getByRole('link', { name: 'New cart' })).toHaveAttribute('href', '/experiments/new-cart');
  });

  it('saves edits with PATCH, the threshold back as a fraction, and shows API errors beside the field', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        method: 'PATCH',
        url: '/v1/metrics/checkout',
        status: 400,
        body: {
          error: { code: 'validation_failed', message: 'bad', details: [{ path: 'cupedLookbackDays', message: 'must be at most 90' }] },
        },
      },
      { url: '/v1/metrics/checkout/usage', body: usage },
      { url: '/v1/metrics/checkout', body: metric },
    ]);
    render();
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const form = screen.getByRole('form', { name: 'Edit metric' });
    expect(within(form).getByLabelText('Guardrail harm threshold (%)')).toHaveValue(2);
    await user.clear(within(form).getByLabelText('Name'));
    await user.type(within(form).getByLabelText('Name'), 'Checkouts');
    await user.selectOptions(within(form).getByLabelText('Good direction'), 'decrease');
    await user.clear(within(form).getByLabelText('Guardrail harm threshold (%)'));
    await user.type(within(form).getByLabelText('Guardrail harm threshold (%)'), '5');
    await user.clear(within(form).getByLabelText('CUPED lookback (days)'));
    await user.type(within(form).getByLabelText('CUPED lookback (days)'), '120');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    const err = await within(form).findByText('must be at most 90');
    expect(err.closest('.field')?.querySelector('input')?.id).toBe('edit-metric-cupedLookbackDays');
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      name: 'Checkouts',
      description: 'Share of users who complete a checkout.',
      direction: 'decrease',
      harmThreshold: 0.05,
      winsorizePercentile: null,
      attributionWindowHours: 48,
      cupedLookbackDays: 120,
    });
  });

  it('deletes after confirmation and shows the refusal for a metric in use', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        method: 'DELETE',
        url: '/v1/metrics/checkout',
        status: 409,
        body: { error: { code: 'conflict', message: 'Metric "checkout" is used by experiment(s): fast-pay, new-cart.', details: [] } },
      },
      { url: '/v1/metrics/checkout/usage', body: usage },
      { url: '/v1/metrics/checkout', body: metric },
    ]);
    render();
    await screen.findByRole('table', { name: 'Experiments using this metric' });
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete “Checkout rate”?' });
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await user.click(within(dialog).getByRole('button', { name: 'Delete metric' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('used by experiment(s): fast-pay, new-cart');
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('archives and unarchives, showing the archived badge and what archiving means', async () => {
    const user = userEvent.setup();
    const archivedAt = '2026-12-05T10:00:00.000Z';
    const calls = mockFetch([
      { method: 'POST', url: '/v1/metrics/checkout/archive', body: { ...metric, archivedAt } },
      { method: 'POST', url: '/v1/metrics/checkout/unarchive', body: metric },
      { url: '/v1/metrics/checkout/usage', body: usage },
      { url: '/v1/metrics/checkout', body: metric },
    ]);
    render();
    expect(await screen.findByRole('heading', { level: 1 })).toHaveTextContent(/^Checkout rate$/);
    await user.click(screen.getByRole('button', { name: 'Archive' }));
    const heading = await screen.findByRole('heading', { level: 1, name: 'Checkout rate archived' });
    expect(within(heading).getByText('archived')).toHaveClass('badge');
    expect(screen.getByText(/Archived on Dec 5, 2026: hidden from the experiment form/)).toHaveTextContent(
      'Experiments that already measure it keep measuring it',
    );
    await user.click(screen.getByRole('button', { name: 'Unarchive' }));
    expect(await screen.findByRole('button', { name: 'Archive' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(/^Checkout rate$/);
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual([
      '/v1/metrics/checkout/archive',
      '/v1/metrics/checkout/unarchive',
    ]);
  });

  it('shows an archive refusal beside the button', async () => {
    const user = userEvent.setup();
    mockFetch([
      {
        method: 'POST',
        url: '/v1/metrics/checkout/archive',
        status: 403,
        body: { error: { code: 'forbidden', message: 'Viewers cannot change metrics.', details: [] } },
      },
      { url: '/v1/metrics/checkout/usage', body: usage },
      { url: '/v1/metrics/checkout', body: metric },
    ]);
    render();
    await user.click(await screen.findByRole('button', { name: 'Archive' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Viewers cannot change metrics.');
  });
});
