import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, inference, metricResult, results, row } from '../../test-fixtures';
import { mockFetch, renderPage } from '../../test-utils';
import { ResultsPanel } from './ResultsPanel';

afterEach(() => vi.unstubAllGlobals());

const m = metricResult([row('control', true, null, 2100), row('treatment', false, inference(0.12, [0.05, 0.19], true, 0.001), 1900)]);

describe('results panel', () => {
  it('shows the SRM banner with the counts, the data freshness and the decision', async () => {
    mockFetch([
      {
        url: '/v1/experiments/checkout/results/timeseries',
        body: { experiment: 'checkout', control: 'control', metrics: ['purchase'], points: [] },
      },
      {
        url: '/v1/experiments/checkout/results',
        body: results([m], {
          srm: {
            counts: { control: 2100, treatment: 1900 },
            expectedWeights: { control: 0.5, treatment: 0.5 },
            chiSquare: 10,
            pValue: 0.0016,
            flagged: true,
          },
          decision: { hint: 'ship', reason: 'treatment wins on purchase.' },
        }),
      },
    ]);
    renderPage(<ResultsPanel experiment={experiment()} />);
    const banner = await screen.findByTestId('srm-banner');
    expect(banner).toHaveTextContent('p = 0.0016');
    expect(banner).toHaveTextContent('control 2,100 (expected 50%), treatment 1,900 (expected 50%)');
    expect(screen.getByTestId('freshness')).toHaveTextContent('4,000 units');
    expect(screen.getByTestId('freshness')).toHaveTextContent(/Data through Nov 2, 2026/);
    expect(screen.getByTestId('decision')).toHaveTextContent('Ready to ship');
    expect(screen.getByTestId('metric-purchase')).toHaveTextContent('this is a significant improvement');
  });

  it('says in the decision banner what "Ready to ship" waits for (the minimum duration)', async () => {
    mockFetch([
      { url: '/v1/experiments/checkout/results/timeseries', body: { experiment: 'checkout', control: 'control', metrics: ['purchase'], points: [] } },
      {
        url: '/v1/experiments/checkout/results',
        body: results([m], {
          readiness: { ready: false, minDurationDays: 7, daysRun: 3.04, reason: 'waits for a full weekly cycle: 3.0 of 7 days run, ready to ship no earlier than 2026-11-08T10:00:00.000Z' },
          decision: { hint: 'keep_running', reason: 'treatment improves purchase (relative 12.00%), but the experiment waits for a full weekly cycle: 3.0 of 7 days run.' },
        }),
      },
    ]);
    renderPage(<ResultsPanel experiment={experiment()} />);
    const banner = await screen.findByTestId('decision');
    expect(banner).toHaveTextContent('Keep running');
    expect(banner).toHaveTextContent('waits for a full weekly cycle: 3.0 of 7 days run');
    expect(screen.getByTestId('readiness')).toHaveTextContent('Minimum duration: 3.0 of 7 days run');
  });

  it('asks for the segment breakdown and the correction method from the API', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        url: '/v1/experiments/checkout/results/timeseries',
        status: 404,
        body: { error: { code: 'route_not_found', message: 'No such route.', details: [] } },
      },
      { url: '/v1/experiments/checkout/results', body: results([m]) },
    ]);
    renderPage(<ResultsPanel experiment={experiment()} />);
    await screen.findByTestId('metric-purchase');
    expect(screen.getByText('No daily series yet.')).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Multiple comparisons'), 'bonferroni');
    await user.type(screen.getByLabelText('Segment by attribute'), 'country');
    await vi.waitFor(
      () => expect(calls.some((c) => c.url === '/v1/experiments/checkout/results?segment=country&correction=bonferroni')).toBe(true),
      { timeout: 3000 },
    );
  });

  it('says "no results yet" while the results endpoint answers 404', async () => {
    mockFetch([]);
    renderPage(<ResultsPanel experiment={experiment()} />);
    expect(await screen.findByRole('heading', { name: 'No results yet' })).toBeInTheDocument();
  });

  it('downloads exports through fetch with the bearer header', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/experiments/checkout/results/timeseries', body: { experiment: 'checkout', control: 'control', metrics: [], points: [] } },
      { url: '/v1/experiments/checkout/results', body: results([m]) },
      { url: '/v1/experiments/checkout/export/units', body: 'unit,variant' },
      { url: '/v1/experiments/checkout/export', body: 'metric,variant' },
    ]);
    const createObjectURL = vi.fn(() => 'blob:x');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    renderPage(<ResultsPanel experiment={experiment()} />);
    await screen.findByTestId('metric-purchase');
    await user.click(screen.getByRole('button', { name: 'Results CSV' }));
    await user.click(screen.getByRole('button', { name: 'Per-unit CSV' }));
    await vi.waitFor(() => expect(click).toHaveBeenCalledTimes(2));
    const exports = calls.filter((c) => c.url.includes('/export'));
    expect(exports.map((c) => c.url)).toEqual([
      '/v1/experiments/checkout/export?format=csv',
      '/v1/experiments/checkout/export/units?format=csv',
    ]);
    expect(exports.every((c) => c.headers.authorization === 'Bearer sk_admin_test')).toBe(true);
    expect(createObjectURL).toHaveBeenCalledTimes(2);
    click.mockRestore();
  });
});
