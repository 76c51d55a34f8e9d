import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, layer, metricResult, results, row } from '../test-fixtures';
import { mockFetch, page, renderPage } from '../test-utils';
import { ExperimentsPage } from './ExperimentsPage';

afterEach(() => vi.unstubAllGlobals());

describe('experiments list', () => {
  it('shows lift, SRM and guardrail badges for running experiments and tolerates a missing results endpoint', async () => {
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      {
        url: '/v1/experiments/checkout/results',
        body: results([metricResult([row('control', true, null), row('treatment', false, inference(0.12, [0.05, 0.19], true))])], {
          srm: { counts: { control: 1, treatment: 2 }, expectedWeights: {}, chiSquare: 9, pValue: 0.001, flagged: true },
          guardrails: [
            { metric: 'latency', variant: 'treatment', threshold: 0.02, harmCi: [0.03, 0.05], status: 'harm', message: 'slower' },
          ],
        }),
      },
      {
        url: '/v1/experiments?',
        body: page([
          experiment(),
          experiment({ key: 'pricing', name: 'Pricing page', traffic: 25.5 }),
          experiment({ key: 'old', name: 'Old test', status: 'stopped', startedAt: null }),
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
    expect(await within(pricing).findByText('no results yet')).toBeInTheDocument();
    // Stopped experiments are not fetched per row.
    expect(calls.some((c) => c.url.startsWith('/v1/experiments/old/results'))).toBe(false);
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
