import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metric } from '../test-fixtures';
import { mockFetch, page, renderPage } from '../test-utils';
import { EVENT_NAME_DEBOUNCE_MS, MetricsPage } from './MetricsPage';

afterEach(() => vi.unstubAllGlobals());

describe('metrics', () => {
  it('creates a ratio metric, converting the harm threshold from percent, and shows API errors by field', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        method: 'POST',
        url: '/v1/metrics',
        status: 400,
        body: {
          error: {
            code: 'validation_failed',
            message: 'bad',
            details: [{ path: 'denominatorEventName', message: 'ratio metrics need a denominator event' }],
          },
        },
      },
      { url: '/v1/metrics', body: page([]) },
    ]);
    renderPage(<MetricsPage />);
    await user.click(await screen.findByRole('button', { name: 'Define your first metric' }));
    await user.type(screen.getByLabelText('Key'), 'clicks-per-session');
    await user.type(screen.getByLabelText('Name'), 'Clicks per session');
    await user.selectOptions(screen.getByLabelText('Type'), 'ratio');
    await user.type(screen.getByLabelText('Numerator event'), 'click');
    await user.type(screen.getByLabelText('Guardrail harm threshold (%)'), '2');
    await user.click(screen.getByRole('button', { name: 'Create metric' }));
    const err = await screen.findByText('ratio metrics need a denominator event');
    expect(err.closest('.field')?.querySelector('input')?.id).toBe('metric-denominatorEventName');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      key: 'clicks-per-session',
      name: 'Clicks per session',
      type: 'ratio',
      eventName: 'click',
      denominatorEventName: null,
      direction: 'increase',
      winsorizePercentile: null,
      harmThreshold: 0.02,
      attributionWindowHours: null,
      cupedLookbackDays: 14,
    });
  });

  it('links names to the detail page, shows descriptions and suggests recently received event names', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        url: '/v1/metrics/event-names',
        body: {
          since: '2026-11-27T00:00:00.000Z',
          items: [
            { name: 'checkout_done', count: 1200 },
            { name: 'checkout_start', count: 80 },
          ],
        },
      },
      {
        url: '/v1/metrics',
        body: page([
          {
            key: 'checkout',
            name: 'Checkout rate',
            description: 'Share of users who complete a checkout.',
            type: 'conversion',
            eventName: 'checkout_done',
            denominatorEventName: null,
            direction: 'increase',
            winsorizePercentile: null,
            harmThreshold: null,
            attributionWindowHours: null,
            cupedLookbackDays: 14,
            createdAt: '2026-12-01T00:00:00.000Z',
            updatedAt: '2026-12-01T00:00:00.000Z',
          },
        ]),
      },
    ]);
    renderPage(<MetricsPage />);
    expect(await screen.findByRole('link', { name: 'Checkout rate' })).toHaveAttribute('href', '/metrics/checkout');
    expect(screen.getByText('Share of users who complete a checkout.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'New metric' }));
    const eventInput = screen.getByLabelText('Event name');
    expect(eventInput).toHaveAttribute('list', 'metric-event-names');
    await user.type(eventInput, 'check');
    const list = screen.getByTestId('metric-event-names');
    await vi.waitFor(() => expect([...list.querySelectorAll('option')].map((o) => o.value)).toEqual(['checkout_done', 'checkout_start']));
    // The request follows the typing pause (debounced).
    await vi.waitFor(() =>
      expect(calls.some((c) => c.url.startsWith('/v1/metrics/event-names') && c.url.includes('prefix=check&'))).toBe(true),
    );
  });

  it('asks for event-name suggestions once per typing pause, not once per keystroke', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/metrics/event-names', body: { since: '2026-11-27T00:00:00.000Z', items: [{ name: 'checkout_done', count: 3 }] } },
      { url: '/v1/metrics', body: page([metric()]) },
    ]);
    const prefixes = () =>
      calls
        .filter((c) => c.url.startsWith('/v1/metrics/event-names'))
        .map((c) => new URL(c.url, 'http://x').searchParams.get('prefix') ?? '');
    renderPage(<MetricsPage />);
    await user.click(await screen.findByRole('button', { name: 'New metric' }));
    await vi.waitFor(() => expect(prefixes()).toEqual(['']));
    await user.type(screen.getByLabelText('Event name'), 'checkout_d');
    await new Promise((r) => setTimeout(r, EVENT_NAME_DEBOUNCE_MS + 200));
    expect(prefixes()).toEqual(['', 'checkout_d']);
    // Back to a prefix already asked for: answered from the cache.
    await user.clear(screen.getByLabelText('Event name'));
    await new Promise((r) => setTimeout(r, EVENT_NAME_DEBOUNCE_MS + 200));
    expect(prefixes()).toEqual(['', 'checkout_d']);
  });

  it('lists active metrics by default, and archived ones too, badged, with the filter kept in the URL', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        url: /^\/v1\/metrics\?.*archived=include/,
        body: page([metric(), metric({ key: 'old', name: 'Old metric', archivedAt: '2026-11-20T00:00:00.000Z' })]),
      },
      { url: '/v1/metrics', body: page([metric()]) },
    ]);
    renderPage(<MetricsPage />, { path: '/metrics', route: '/metrics' });
    expect(await screen.findByRole('link', { name: 'Purchase rate' })).toBeInTheDocument();
    expect(screen.queryByText('Old metric')).toBeNull();
    expect(screen.queryByText('archived')).toBeNull();
    await user.click(screen.getByLabelText('Show archived metrics'));
    const old = await screen.findByRole('link', { name: 'Old metric' });
    expect(old.closest('td')?.querySelector('.badge')?.textContent).toBe('archived');
    expect(calls.filter((c) => c.url.startsWith('/v1/metrics?')).map((c) => c.url)).toEqual([
      '/v1/metrics?limit=500',
      '/v1/metrics?limit=500&archived=include',
    ]);
  });

  it('shows archived metrics when the URL asks for them', async () => {
    mockFetch([
      {
        url: /^\/v1\/metrics\?.*archived=include/,
        body: page([metric({ key: 'old', name: 'Old metric', archivedAt: '2026-11-20T00:00:00.000Z' })]),
      },
      { url: '/v1/metrics', body: page([]) },
    ]);
    renderPage(<MetricsPage />, { path: '/metrics', route: '/metrics?archived=include' });
    expect(await screen.findByRole('link', { name: 'Old metric' })).toBeInTheDocument();
    expect(screen.getByLabelText('Show archived metrics')).toBeChecked();
  });
});
