import type { HeterogeneityDto, NoveltyDto } from '@strata/contracts';
import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, metricResult, results, row } from '../../test-fixtures';
import { mockFetch, renderPage } from '../../test-utils';
import { ResultsPanel } from './ResultsPanel';

afterEach(() => vi.unstubAllGlobals());

const novelty: NoveltyDto = {
  method: 'weighted-trend-knapp-hartung',
  params: { alpha: 0.05 },
  metric: 'purchase',
  variant: 'treatment',
  cohorts: [],
  slope: -0.42,
  pValue: 0.001,
  flagged: true,
  pattern: 'fading',
};
const country: HeterogeneityDto = {
  method: 'cochran-q',
  params: { alpha: 0.05 },
  metric: 'purchase',
  variant: 'treatment',
  dimension: 'country',
  q: 30,
  df: 1,
  pValue: 1e-7,
  adjustedPValue: 2e-7,
  iSquared: 0.97,
  flagged: true,
  highlighted: ['DE', 'FR'],
};

function page(extra: { novelty?: NoveltyDto[]; heterogeneity?: HeterogeneityDto[] }) {
  mockFetch([
    { url: '/v1/experiments/checkout/results/timeseries', body: { experiment: 'checkout', control: 'control', metrics: [], points: [] } },
    {
      url: '/v1/experiments/checkout/results',
      body: results([metricResult([row('control', true, null), row('treatment', false, inference(0.02, [-0.01, 0.05], false, 0.2))])], extra),
    },
  ]);
  renderPage(<ResultsPanel experiment={experiment()} />);
}

describe('novelty and heterogeneity on the results page', () => {
  it('says the effect fades over the days and differs by country, naming the segments', async () => {
    page({ novelty: [novelty], heterogeneity: [country, { ...country, dimension: 'platform', flagged: false, highlighted: [] }] });
    const notice = await screen.findByTestId('effect-checks-notice');
    const items = within(notice).getAllByRole('listitem').map((li) => li.textContent ?? '');
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(/purchase in treatment: the effect is fading over the exposure days \(-0\.420 per day/);
    expect(items[1]).toMatch(/differs by country .*I² = 97%.*most different: DE, FR/);
    expect(notice.textContent).not.toContain('platform');
  });

  it('shows nothing when neither is flagged', async () => {
    page({ novelty: [{ ...novelty, flagged: false, pattern: 'none' }], heterogeneity: [{ ...country, flagged: false, highlighted: [] }] });
    await screen.findByTestId('freshness');
    expect(screen.queryByTestId('effect-checks-notice')).toBeNull();
  });
});
