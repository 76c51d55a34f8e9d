import type { PostStratifiedDto } from '@strata/contracts';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, metricResult, results, row } from '../../test-fixtures';
import { LocationProbe as Where, mockFetch, noTimeseries, renderPage } from '../../test-utils';
import { narrowing } from './PostStratifiedCard';
import { ResultsPanel } from './ResultsPanel';

afterEach(() => vi.unstubAllGlobals());

const noSeries = noTimeseries();

/** Unadjusted: relative +10 % (sequential −2 % to +22 %, fixed +1 % to +19 %), absolute +1 pp. */
function unadjusted() {
  const t = row('treatment', false, inference(0.1, [-0.02, 0.22], false, 0.1));
  t.relative = { sequential: inference(0.1, [-0.02, 0.22], false, 0.1), fixed: inference(0.1, [0.01, 0.19], true, 0.03) };
  t.absolute = { sequential: inference(0.01, [-0.002, 0.022], false, 0.1), fixed: inference(0.01, [0.001, 0.019], true, 0.03) };
  return metricResult([row('control', true, null), t]);
}

/** Post-stratified on country: sequential interval 0.12 wide (50 % of 0.24), fixed 0.09 wide (50 % of 0.18). */
function stratified(overrides: Partial<PostStratifiedDto> = {}): PostStratifiedDto {
  return {
    method: 'post-stratification',
    params: { dimension: 'country', strata: 3 },
    metric: 'purchase',
    variant: 'treatment',
    dimension: 'country',
    strata: [
      { value: 'DE', units: 1800 },
      { value: 'FR', units: 1500 },
      { value: '(other)', units: 500 },
      { value: '(not set)', units: 200 },
    ],
    cuped: { applied: false, theta: 0, reason: 'no covariate' },
    absolute: { sequential: inference(0.011, [0.005, 0.017], true, 0.001), fixed: inference(0.011, [0.0065, 0.0155], true, 0.0001) },
    relative: { sequential: inference(0.11, [0.05, 0.17], true, 0.001), fixed: inference(0.11, [0.065, 0.155], true, 0.0001) },
    ...overrides,
  };
}

describe('post-stratified results', () => {
  it('offers "Variance reduction" only when the experiment declares segment dimensions', async () => {
    mockFetch([noSeries, { url: '/v1/experiments/checkout/results', body: results([unadjusted()]) }]);
    const { unmount } = renderPage(<ResultsPanel experiment={experiment({ segmentDimensions: [] })} />);
    await screen.findByTestId('metric-purchase');
    expect(screen.queryByLabelText('Variance reduction')).not.toBeInTheDocument();
    unmount();

    renderPage(<ResultsPanel experiment={experiment()} />);
    await screen.findByTestId('metric-purchase');
    const select = screen.getByLabelText('Variance reduction');
    expect(
      within(select)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['None', 'Post-stratify by country', 'Post-stratify by platform', 'Post-stratify by day_of_week']);
    expect(select).toHaveValue('');
  });

  it('asks for ?stratify=country, keeps it in the URL and shows the post-stratified numbers beside the unadjusted ones', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results?correction=bh&stratify=country',
        body: results([unadjusted()], {
          postStratified: [stratified()],
          decision: { hint: 'keep_running', reason: 'No significant difference yet.' },
        }),
      },
      { url: '/v1/experiments/checkout/results', body: results([unadjusted()]) },
    ]);
    renderPage(
      <>
        <ResultsPanel experiment={experiment()} />
        <Where />
      </>,
    );
    await screen.findByTestId('metric-purchase');
    expect(screen.queryByTestId('post-stratified')).not.toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Variance reduction'), 'country');

    const card = await screen.findByTestId('post-stratified');
    await within(card).findByRole('table');
    expect(calls.some((c) => c.url === '/v1/experiments/checkout/results?correction=bh&stratify=country')).toBe(true);
    expect(screen.getByTestId('where')).toHaveTextContent('/?stratify=country');
    expect(screen.getByLabelText('Variance reduction')).toHaveValue('country');
    expect(within(card).getByRole('heading', { name: 'Post-stratified by country' })).toBeInTheDocument();
    const cells = within(card).getAllByRole('cell');
    // Sequential (the default): unadjusted and post-stratified, relative and absolute.
    expect(cells[2]).toHaveTextContent('+10.0% (-2.0% to +22.0%) · absolute +1.00 pp (-0.20 pp to +2.20 pp)');
    expect(cells[3]).toHaveTextContent('+11.0% (+5.0% to +17.0%) · absolute +1.10 pp (+0.50 pp to +1.70 pp)');
    expect(cells[4]).toHaveTextContent('interval 50% narrower than unadjusted');
    expect(
      within(card).getByRole('img', {
        name: 'Intervals of the lift of Purchase rate, unadjusted and post-stratified by country, against zero',
      }),
    ).toBeInTheDocument();
    expect(cells[5]).toHaveTextContent('DE (1,800 units), FR (1,500 units), (other) (500 units), (not set) (200 units)');
    expect(card).toHaveTextContent('“(other)” merges the strata with too few units in an arm.');
    expect(card).toHaveTextContent('“(not set)” holds the units exposed without a country.');
    expect(screen.getByTestId('post-stratified-note')).toHaveTextContent(
      'The recommendation banner still uses the unadjusted sequential test',
    );
    // The banner is the API's decision, untouched by the narrower interval.
    expect(screen.getByTestId('decision')).toHaveTextContent('Keep running');
    // Colour contrast needs a real renderer: the e2e suite checks it.
    const axeRun = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
    expect(axeRun.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    await user.click(screen.getByRole('button', { name: 'Fixed horizon' }));
    const fixed = within(screen.getByTestId('post-stratified')).getAllByRole('cell');
    expect(fixed[2]).toHaveTextContent('+10.0% (+1.0% to +19.0%)');
    expect(fixed[3]).toHaveTextContent('+11.0% (+6.5% to +15.5%)');
    expect(fixed[4]).toHaveTextContent('interval 50% narrower than unadjusted');

    await user.selectOptions(screen.getByLabelText('Variance reduction'), '');
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/);
  });

  it('reads the dimension from the URL and shows the reason where the estimator is not defined', async () => {
    const ratio = unadjusted();
    ratio.type = 'ratio';
    const reason = 'ratio metrics are not post-stratified (a weighted mean of per-stratum ratios is another estimand)';
    const calls = mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results',
        body: results([ratio], {
          postStratified: [
            stratified({
              strata: [],
              reason,
              cuped: { applied: false, theta: 0, reason: 'ratio metric' },
              absolute: { sequential: inference(0, null, false, 1), fixed: inference(0, null, false, 1) },
              relative: { sequential: inference(0, null, false, 1), fixed: inference(0, null, false, 1) },
            }),
          ],
        }),
      },
    ]);
    renderPage(<ResultsPanel experiment={experiment()} />, { route: '/?stratify=country' });
    const card = await screen.findByTestId('post-stratified');
    await within(card).findByRole('table');
    expect(calls.some((c) => c.url.endsWith('stratify=country'))).toBe(true);
    const cells = within(card).getAllByRole('cell');
    expect(cells[3]).toHaveTextContent(`Not post-stratified: ${reason}`);
    expect(cells[4]).toHaveTextContent('—');
    expect(card).not.toHaveTextContent('narrower');
  });

  it('never asks for a dimension the experiment does not declare (the API would answer 400)', async () => {
    const calls = mockFetch([noSeries, { url: '/v1/experiments/checkout/results', body: results([unadjusted()]) }]);
    renderPage(<ResultsPanel experiment={experiment()} />, { route: '/?stratify=browser' });
    await screen.findByTestId('metric-purchase');
    expect(calls.filter((c) => c.url.startsWith('/v1/experiments/checkout/results?')).map((c) => c.url)).toEqual([
      '/v1/experiments/checkout/results?correction=bh',
    ]);
    expect(screen.getByLabelText('Variance reduction')).toHaveValue('');
    expect(screen.queryByTestId('post-stratified')).not.toBeInTheDocument();
  });

  it('words the width change, narrower or wider', () => {
    expect(narrowing([-0.1, 0.1], [-0.058, 0.058])).toBe('interval 42% narrower than unadjusted');
    expect(narrowing([-0.1, 0.1], [-0.15, 0.15])).toBe('interval 50% wider than unadjusted');
    expect(narrowing(null, [-0.1, 0.1])).toBe('—');
  });
});
