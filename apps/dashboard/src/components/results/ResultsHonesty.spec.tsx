import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, layer, metricResult, results, row } from '../../test-fixtures';
import { LocationProbe as Where, mockFetch, noTimeseries, renderPage } from '../../test-utils';
import { LifecycleActions } from '../LifecycleActions';
import { ResultsPanel } from './ResultsPanel';

afterEach(() => vi.unstubAllGlobals());

const noSeries = noTimeseries();

/** Sequential says "no difference", fixed horizon says "significant" — the state the issue saw. */
function disagreeing() {
  const t = row('treatment', false, inference(0.05, [-0.01, 0.11], false, 0.09));
  t.relative = {
    sequential: inference(0.05, [-0.01, 0.11], false, 0.09),
    fixed: { ...inference(0.05, [0.02, 0.08], true, 0.0007), method: 'welch-t' },
  };
  return metricResult([row('control', true, null), t]);
}

describe('results page honesty', () => {
  it('shows a shipped experiment as shipped: the winner, when, and the final numbers', async () => {
    mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results',
        body: results([metricResult([row('control', true, null), row('treatment', false, inference(0.12, [0.05, 0.19], true, 0.001))])]),
      },
    ]);
    renderPage(
      <ResultsPanel experiment={experiment({ status: 'shipped', shippedVariant: 'treatment', stoppedAt: '2026-11-20T10:00:00.000Z' })} />,
    );
    const banner = await screen.findByTestId('decision');
    expect(banner).toHaveTextContent('Shipped “Green button” (treatment) on Nov 20, 2026');
    expect(banner).toHaveTextContent('Final result on Purchase rate: +12.0% (+5.0% to +19.0%, p 0.0010, significant) from 4,000 units.');
    expect(banner).not.toHaveTextContent('Keep running');
  });

  it('says which test the recommendation uses when the table shows fixed-horizon numbers', async () => {
    const user = userEvent.setup();
    mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results',
        body: results([disagreeing()], { decision: { hint: 'keep_running', reason: 'No significant difference yet.' } }),
      },
    ]);
    renderPage(<ResultsPanel experiment={experiment()} />);
    await screen.findByTestId('metric-purchase');
    await user.click(screen.getByRole('button', { name: 'Fixed horizon' }));
    expect(screen.getByTestId('metric-purchase')).toHaveTextContent('this is a significant improvement');
    expect(screen.getByTestId('decision-test')).toHaveTextContent('This recommendation uses the sequential (always-valid) test');
    expect(screen.getByTestId('decision-test')).toHaveTextContent('The tables below show fixed-horizon intervals');
  });

  it('shows a guardrail once, with its name and the corrected interval, not a second card with another interval', async () => {
    const g = metricResult([row('control', true, null), row('treatment', false, inference(-0.02, [-0.04, -0.001], true, 0.04))], {
      metric: 'latency',
      name: 'Page load time',
      role: 'guardrail',
      direction: 'decrease',
    });
    mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results',
        body: results([disagreeing(), g], {
          guardrails: [
            {
              metric: 'latency',
              variant: 'treatment',
              threshold: 0.05,
              harmCi: [-0.06, 0.01],
              status: 'ok',
              message: 'No harm beyond 5%.',
            },
          ],
        }),
      },
    ]);
    renderPage(<ResultsPanel experiment={experiment({ guardrailMetrics: ['latency'] })} />);
    await screen.findByTestId('metric-purchase');
    expect(screen.queryByTestId('metric-latency')).toBeNull();
    const table = screen.getByRole('heading', { name: 'Guardrails' }).closest('.card') as HTMLElement;
    expect(within(table).getByText('Page load time')).toBeInTheDocument();
    expect(within(table).queryByText('latency')).toBeNull();
    expect(table).toHaveTextContent('-6.0% to +1.0%');
    expect(document.body).not.toHaveTextContent('-4.0% to -0.1%');
  });

  it('segment table follows the sequential / fixed switch, keeps the segment in the URL and never shows a lift below −100 %', async () => {
    const user = userEvent.setup();
    const seg = disagreeing();
    const de = seg.variants[1];
    if (de?.relative) de.relative.sequential = inference(0.05, [-1.4, 1.5], false, 0.6);
    const calls = mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results',
        body: results([disagreeing()], { segments: [{ segment: 'country', value: 'DE', metrics: [seg] }] }),
      },
    ]);
    renderPage(
      <>
        <ResultsPanel experiment={experiment()} />
        <Where />
      </>,
      { route: '/?segment=country' },
    );
    const table = (await screen.findByRole('heading', { name: 'Segments' })).closest('.card') as HTMLElement;
    expect(calls.some((c) => c.url.includes('segment=country'))).toBe(true);
    expect(screen.getByLabelText('Segment by attribute')).toHaveValue('country');
    expect(table).toHaveTextContent('-100.0% to +150.0%');
    await user.click(screen.getByRole('button', { name: 'Fixed horizon' }));
    expect(table).toHaveTextContent('+2.0% to +8.0%');
    await user.clear(screen.getByLabelText('Segment by attribute'));
    await user.type(screen.getByLabelText('Segment by attribute'), 'device');
    expect(screen.getByTestId('where')).toHaveTextContent('/?segment=device');
  });

  it('a running experiment with no units says what to do instead of showing zeros', async () => {
    mockFetch([
      noSeries,
      {
        url: '/v1/experiments/checkout/results',
        body: results([metricResult([row('control', true, null, 0, 0), row('treatment', false, inference(0, null, false, 1), 0, 0)])], {
          totalUnits: 0,
        }),
      },
    ]);
    renderPage(<ResultsPanel experiment={experiment()} />);
    expect(await screen.findByRole('heading', { name: 'Waiting for the first units' })).toBeInTheDocument();
    expect(document.body).toHaveTextContent('npm run simulate -- --experiment checkout');
    expect(screen.getByRole('link', { name: 'API keys' })).toHaveAttribute('href', '/api-keys');
    expect(document.body).not.toHaveTextContent('0.00%');
    expect(document.body).not.toHaveTextContent('1.0000');
  });

  it('the ship dialog warns when the chosen winner is not significant', async () => {
    const user = userEvent.setup();
    mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      { url: '/v1/experiments/checkout/results', body: results([disagreeing()]) },
    ]);
    renderPage(<LifecycleActions experiment={experiment()} />);
    await user.click(screen.getByRole('button', { name: 'Ship a variant' }));
    await user.selectOptions(screen.getByLabelText('Variant to ship'), 'treatment');
    expect(await screen.findByTestId('ship-warning')).toHaveTextContent(
      'treatment is not a significant winner on Purchase rate: +5.0% (-1.0% to +11.0%) — the interval includes zero',
    );
  });
});
