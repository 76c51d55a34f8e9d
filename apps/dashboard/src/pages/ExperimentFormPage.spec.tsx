import { sampleSizeFixed, sampleSizeSequential } from '@strata/stats';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { experiment, layer, metric } from '../test-fixtures';
import { mockFetch, page, renderPage } from '../test-utils';
import { ExperimentFormPage } from './ExperimentFormPage';

afterEach(() => vi.unstubAllGlobals());

const validationError = {
  error: {
    code: 'validation_failed',
    message: 'The request body is not valid',
    details: [
      { path: 'variants.1.weight', message: 'Too big: expected number to be <=1' },
      { path: 'key', message: 'must be lowercase letters, digits, "-" or "_"' },
      { path: 'targeting.rules.0.value', message: 'regex is not a valid regular expression' },
      { path: 'somethingElse', message: 'an error no field claims' },
    ],
  },
};

async function fillBasics(user: ReturnType<typeof userEvent.setup>) {
  await screen.findByRole('heading', { name: 'New experiment' });
  await user.type(screen.getByLabelText('Key'), 'Bad Key');
  await user.type(screen.getByLabelText('Name'), 'Checkout');
}

describe('experiment form', () => {
  it('shows each API validation detail next to its field, and the rest in the summary', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      { url: '/v1/metrics', body: page([metric()]) },
      { method: 'POST', url: '/v1/experiments', status: 400, body: validationError },
    ]);
    renderPage(<ExperimentFormPage />, { path: '/experiments/new', route: '/experiments/new' });
    await fillBasics(user);
    await user.click(screen.getAllByRole('button', { name: 'Add condition' })[0] as HTMLElement);
    await user.type(screen.getByLabelText('Attribute'), 'email');
    await user.selectOptions(screen.getByLabelText('Operator'), 'regex');
    await user.type(screen.getByLabelText('Value'), '(');
    await user.click(screen.getByRole('button', { name: 'Create experiment' }));

    const weightError = await screen.findByText('Too big: expected number to be <=1');
    // The message sits in the same field as the "Variant 2 weight" input.
    expect(weightError.closest('.field')?.querySelector('input')?.id).toBe('variant-1-weight');
    expect(screen.getByLabelText('Variant 2 weight')).toHaveAttribute('aria-invalid', 'true');
    expect(
      screen
        .getByText(/must be lowercase letters/)
        .closest('.field')
        ?.querySelector('input')?.id,
    ).toBe('exp-key');
    expect(screen.getByText('regex is not a valid regular expression').closest('.field')?.querySelector('input')?.value).toBe('(');
    expect(screen.getByRole('alert')).toHaveTextContent('Please fix the highlighted fields.');
    expect(screen.getByRole('alert')).toHaveTextContent('somethingElse an error no field claims');

    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({
      key: 'Bad Key',
      name: 'Checkout',
      hypothesis: '',
      layer: 'homepage',
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
      targeting: { match: 'all', rules: [{ attribute: 'email', operator: 'regex', value: '(' }] },
      forcedVariants: [],
      primaryMetric: null,
      secondaryMetrics: [],
      guardrailMetrics: [],
      plannedSampleSize: null,
      autoStop: true,
      traffic: 100,
    });
  });

  it('does not send weights that do not sum to 1', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      { url: '/v1/metrics', body: page([metric()]) },
    ]);
    renderPage(<ExperimentFormPage />, { path: '/experiments/new', route: '/experiments/new' });
    await fillBasics(user);
    await user.clear(screen.getByLabelText('Variant 2 weight'));
    await user.type(screen.getByLabelText('Variant 2 weight'), '0.6');
    await user.click(screen.getByRole('button', { name: 'Create experiment' }));
    // Said once, beside the weights, and focus is taken there (not left on the button far below).
    expect(screen.getAllByText('Weights must sum to 1; they sum to 1.1.')).toHaveLength(1);
    expect(document.activeElement?.id).toBe('variant-0-weight');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('after an API rejection focuses the first invalid field, not the button or the body', async () => {
    const user = userEvent.setup();
    mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      { url: '/v1/metrics', body: page([metric()]) },
      { method: 'POST', url: '/v1/experiments', status: 400, body: validationError },
    ]);
    renderPage(<ExperimentFormPage />, { path: '/experiments/new', route: '/experiments/new' });
    await fillBasics(user);
    await user.click(screen.getByRole('button', { name: 'Create experiment' }));
    await screen.findByText(/must be lowercase letters/);
    await waitFor(() => expect(document.activeElement?.id).toBe('exp-key'));
    expect(screen.getAllByText(/must be lowercase letters/)).toHaveLength(1);
  });

  it('shows the layer bucket map and fills the planned sample size from the power calculator', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      {
        url: '/v1/metrics/purchase/baseline',
        body: { metric: 'purchase', type: 'conversion', observed: null, source: null, reason: 'No data.' },
      },
      { url: '/v1/metrics', body: page([metric()]) },
      { method: 'POST', url: '/v1/experiments', body: { key: 'checkout-2' } },
    ]);
    renderPage(<ExperimentFormPage />, { path: '/experiments/new', route: '/experiments/new' });
    await screen.findByRole('heading', { name: 'New experiment' });
    expect(
      screen.getByRole('img', { name: /Buckets of layer homepage: checkout holds 1,000; 9,000 of 10,000 buckets free/ }),
    ).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Traffic (% of the layer)'));
    await user.type(screen.getByLabelText('Traffic (% of the layer)'), '25');
    expect(screen.getByText(/2,500 of 10,000 buckets\./)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: /as planned sample size/ }));
    const planned = Number((screen.getByLabelText('Planned sample size (units per arm)') as HTMLInputElement).value);
    // Per arm, not per-arm × arms (the bug: N* read per arm by the API ended up k× too large).
    expect(planned).toBe(sampleSizeSequential({ baselineRate: 0.1, mde: 0.05, alpha: 0.05, power: 0.8 }).perArm);
    await user.type(screen.getByLabelText('Key'), 'checkout-2');
    await user.type(screen.getByLabelText('Name'), 'Checkout 2');
    await user.selectOptions(screen.getByLabelText('Primary metric'), 'purchase');
    await user.click(screen.getByRole('button', { name: 'Create experiment' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toMatchObject({
      traffic: 25,
      plannedSampleSize: planned,
      primaryMetric: 'purchase',
    });
  });

  it("pre-fills the power calculator from the primary metric's observed baseline and names its source", async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      {
        url: '/v1/metrics/purchase/baseline',
        body: {
          metric: 'purchase',
          type: 'conversion',
          observed: { kind: 'rate', rate: 0.123456, n: 4321 },
          source: { basis: 'control-of-most-recent-experiment', experiments: ['checkout-old'], variant: 'control' },
          reason: null,
        },
      },
      { url: '/v1/metrics', body: page([metric()]) },
    ]);
    renderPage(<ExperimentFormPage />, { path: '/experiments/new', route: '/experiments/new' });
    await screen.findByRole('heading', { name: 'New experiment' });
    expect(calls.some((c) => c.url.includes('/baseline'))).toBe(false);
    await user.selectOptions(screen.getByLabelText('Primary metric'), 'purchase');
    await waitFor(() => expect(screen.getByLabelText('Baseline rate (0–1)')).toHaveValue(0.1235));
    expect(screen.getByTestId('power-baseline-source')).toHaveTextContent('Pre-filled from 4,321 units in experiment checkout-old');
    const fixed = sampleSizeFixed({ baselineRate: 0.1235, mde: 0.05, alpha: 0.05, power: 0.8 });
    expect(screen.getByTestId('power-fixed')).toHaveTextContent(`${fixed.perArm.toLocaleString('en-US')} units per arm`);
    // The user may overwrite it.
    await user.clear(screen.getByLabelText('Baseline rate (0–1)'));
    await user.type(screen.getByLabelText('Baseline rate (0–1)'), '0.2');
    expect(screen.getByLabelText('Baseline rate (0–1)')).toHaveValue(0.2);
  });

  it('offers archived metrics only where the experiment already measures them, marked archived', async () => {
    const metrics = page([
      metric(),
      metric({ key: 'old-views', name: 'Old views', type: 'count', archivedAt: '2026-11-20T00:00:00.000Z' }),
      metric({ key: 'old-latency', name: 'Old latency', type: 'mean', archivedAt: '2026-11-20T00:00:00.000Z' }),
    ]);
    const calls = mockFetch([
      { url: '/v1/layers', body: page([layer()]) },
      {
        url: '/v1/metrics/purchase/baseline',
        body: { metric: 'purchase', type: 'conversion', observed: null, source: null, reason: 'none' },
      },
      { url: '/v1/metrics', body: metrics },
      { url: '/v1/experiments/checkout', body: experiment({ status: 'draft', startedAt: null, secondaryMetrics: ['old-views'] }) },
    ]);
    const { unmount } = renderPage(<ExperimentFormPage />, { path: '/experiments/:key/edit', route: '/experiments/checkout/edit' });
    const secondary = within((await screen.findByText('Secondary metrics')).closest('fieldset') as HTMLElement);
    expect(secondary.getAllByRole('checkbox').map((c) => [c.parentElement?.textContent, (c as HTMLInputElement).checked])).toEqual([
      ['Purchase rate', false],
      ['Old views (archived)', true],
    ]);
    const primary = screen.getByLabelText('Primary metric');
    expect([...primary.querySelectorAll('option')].map((o) => o.textContent)).toEqual([
      'None',
      'Purchase rate (purchase, conversion)',
      'Old views (archived) (old-views, count)',
    ]);
    expect(calls.find((c) => c.url.startsWith('/v1/metrics?'))?.url).toContain('archived=include');
    unmount();

    // A new experiment is offered active metrics only.
    renderPage(<ExperimentFormPage />, { path: '/experiments/new', route: '/experiments/new' });
    const fresh = within((await screen.findByText('Secondary metrics')).closest('fieldset') as HTMLElement);
    expect(fresh.getAllByRole('checkbox').map((c) => c.parentElement?.textContent)).toEqual(['Purchase rate']);
  });
});
