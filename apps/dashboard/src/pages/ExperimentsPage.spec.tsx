import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, layer, summary } from '../test-fixtures';
import { mockFetch, page, renderPage } from '../test-utils';
import { ExperimentsPage } from './ExperimentsPage';

afterEach(() => vi.unstubAllGlobals());

describe('experiments list', () => {
  it('makes one list and one summaries request for the rows shown and renders lift, SRM and guardrail badges from the summaries', async () => {
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      {
        url: '/v1/experiments/summaries?',
        body: [
          summary('checkout', {
            primary: { metric: 'purchase', variant: 'treatment', relativeLift: 0.12, ci: [0.05, 0.19], pValue: 0.001, significant: true },
            srm: { flagged: true, pValue: 0.0001 },
            guardrails: { ok: 1, harm: 1, insufficientData: 0 },
            decision: 'stop_for_harm',
          }),
          summary('pricing', {
            primary: { metric: 'purchase', variant: 'b', relativeLift: -0.031, ci: [-0.09, 0.03], pValue: 0.4, significant: false },
          }),
          summary('shipped', {
            primary: { metric: 'purchase', variant: 'treatment', relativeLift: 0.05, ci: [0.01, 0.09], pValue: 0.01, significant: true },
            decision: 'ship',
          }),
        ],
      },
      {
        url: '/v1/experiments?',
        body: page([
          experiment(),
          experiment({ key: 'pricing', name: 'Pricing page', traffic: 25.5 }),
          experiment({ key: 'shipped', name: 'Shipped test', status: 'shipped', shippedVariant: 'treatment' }),
          experiment({ key: 'fresh', name: 'Fresh start' }),
          experiment({ key: 'idea', name: 'Just an idea', status: 'draft', startedAt: null }),
        ]),
      },
    ]);
    renderPage(<ExperimentsPage />);
    const checkout = await screen.findByRole('row', { name: /Checkout button/ });
    expect(await within(checkout).findByText('+12.0%')).toBeInTheDocument();
    expect(within(checkout).getByText('significant')).toBeInTheDocument();
    expect(within(checkout).getByText('SRM')).toBeInTheDocument();
    expect(within(checkout).getByText('1 guardrail harmed')).toBeInTheDocument();
    const pricing = screen.getByRole('row', { name: /Pricing page/ });
    expect(within(pricing).getByText('25.5%')).toBeInTheDocument();
    expect(within(pricing).getByText('-3.1%')).toBeInTheDocument();
    expect(within(pricing).getByText('not significant')).toBeInTheDocument();
    expect(within(pricing).getByText('healthy')).toBeInTheDocument();
    const shipped = screen.getByRole('row', { name: /Shipped test/ });
    expect(within(shipped).getByText('+5.0%').closest('span')).toHaveClass('text-ok');
    // A key the engine has no summary for yet, and a draft that is not asked for.
    expect(within(screen.getByRole('row', { name: /Fresh start/ })).getByText('no results yet')).toBeInTheDocument();
    expect(within(screen.getByRole('row', { name: /Just an idea/ })).queryByText('no results yet')).toBeNull();

    const experimentCalls = calls.filter((c) => c.url.startsWith('/v1/experiments'));
    expect(experimentCalls.map((c) => c.url)).toEqual([
      '/v1/experiments?limit=25&offset=0',
      `/v1/experiments/summaries?keys=${encodeURIComponent('checkout,pricing,shipped,fresh')}`,
    ]);
    expect(calls.some((c) => c.url.includes('/results'))).toBe(false);
  });

  it('says "no results yet" on every row while the summaries endpoint is missing, and keeps alert badges', async () => {
    mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      {
        url: '/v1/experiments?',
        body: page([experiment({ alerts: [{ kind: 'srm', message: 'SRM', at: '2026-11-02T00:00:00.000Z' }] }), experiment({ key: 'pricing', name: 'Pricing page' })]),
      },
    ]);
    renderPage(<ExperimentsPage />);
    const checkout = await screen.findByRole('row', { name: /Checkout button/ });
    expect(await within(checkout).findByText('no results yet')).toBeInTheDocument();
    expect(within(checkout).getByText('SRM')).toBeInTheDocument();
    expect(within(screen.getByRole('row', { name: /Pricing page/ })).getByText('no results yet')).toBeInTheDocument();
  });

  it('filters by status and layer and searches, sending them to the API', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      { url: '/v1/experiments?', body: page([]) },
    ]);
    renderPage(<ExperimentsPage />);
    await screen.findByRole('heading', { name: 'No experiments yet' });
    await user.selectOptions(screen.getByLabelText('Status'), 'running');
    await user.selectOptions(screen.getByLabelText('Layer'), 'homepage');
    await user.type(screen.getByLabelText('Search'), 'check');
    await vi.waitFor(() =>
      expect(calls.map((c) => c.url)).toContain('/v1/experiments?status=running&layer=homepage&search=check&limit=25&offset=0'),
    );
    expect(await screen.findByRole('heading', { name: 'No experiments match these filters' })).toBeInTheDocument();
  });

  it('keeps page, search and filters in the URL: a shared link opens the same list', async () => {
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      { url: '/v1/experiments?', body: page([]) },
    ]);
    renderPage(<ExperimentsPage />, { path: '/experiments', route: '/experiments?status=running&layer=homepage&q=check&offset=25' });
    await vi.waitFor(() =>
      expect(calls.map((c) => c.url)).toContain('/v1/experiments?status=running&layer=homepage&search=check&limit=25&offset=25'),
    );
    expect(screen.getByLabelText('Search')).toHaveValue('check');
    expect(screen.getByLabelText('Status')).toHaveValue('running');
  });

  it('tells a newcomer to create a layer first', async () => {
    mockFetch([
      { url: '/v1/layers', body: page([]) },
      { url: '/v1/experiments?', body: page([]) },
    ]);
    renderPage(<ExperimentsPage />);
    expect(await screen.findByRole('heading', { name: 'Create a layer first' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Create a layer' })).toHaveAttribute('href', '/layers');
  });
});
