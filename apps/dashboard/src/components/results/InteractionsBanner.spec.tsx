import type { InteractionDto } from '@strata/contracts';
import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, metricResult, results, row } from '../../test-fixtures';
import { mockFetch, renderPage } from '../../test-utils';
import { ResultsPanel } from './ResultsPanel';

afterEach(() => vi.unstubAllGlobals());

const flagged: InteractionDto = {
  subject: 'checkout',
  other: 'pricing-banner',
  metric: 'purchase',
  units: 8000,
  method: 'interaction-z',
  df: 1,
  statistic: 11.9,
  estimate: 1.52,
  se: 0.128,
  pValue: 1e-30,
  adjustedPValue: 2e-28,
  flagged: true,
  correction: 'bh',
  fdr: 0.05,
  contrasts: [{ armA: 'treatment', armB: 'treatment', estimate: 1.52, se: 0.128 }],
  reason: null,
  sampleFraction: 1,
  computedAt: '2026-11-02T10:00:00.000Z',
};

function page(interactions: InteractionDto[]) {
  mockFetch([
    { url: '/v1/experiments/checkout/results/timeseries', body: { experiment: 'checkout', control: 'control', metrics: [], points: [] } },
    {
      url: '/v1/experiments/checkout/results',
      body: results([metricResult([row('control', true, null), row('treatment', false, inference(0.02, [-0.01, 0.05], false, 0.2))])], { interactions }),
    },
  ]);
  renderPage(<ResultsPanel experiment={experiment()} />);
}

describe('interactions on the results page', () => {
  it('names the other experiment, the estimate and both p-values of a flagged interaction, with a link to it', async () => {
    page([flagged]);
    const banner = await screen.findByTestId('interactions-banner');
    expect(within(banner).getByRole('heading', { name: /interaction with another experiment/i })).toBeTruthy();
    const cells = within(banner).getAllByRole('cell').map((c) => c.textContent);
    expect(cells).toEqual(['checkout', 'pricing-banner', 'purchase', '1.52', '< 0.0001', '< 0.0001', 'interaction-z']);
    expect(within(banner).getByRole('link', { name: 'pricing-banner' }).getAttribute('href')).toBe('/experiments/pricing-banner');
    expect(within(banner).getByText(/BH at q = 0.05/)).toBeTruthy();
  });

  it('shows the same interaction when this experiment is the one modifying the other', async () => {
    page([{ ...flagged, subject: 'pricing-banner', other: 'checkout' }]);
    const banner = await screen.findByTestId('interactions-banner');
    expect(within(banner).getByRole('link', { name: 'pricing-banner' })).toBeTruthy();
  });

  it('shows nothing without flagged interactions', async () => {
    page([]);
    await screen.findByTestId('freshness');
    expect(screen.queryByTestId('interactions-banner')).toBeNull();
  });
});
