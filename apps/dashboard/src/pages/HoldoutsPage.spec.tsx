import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HoldoutDto, HoldoutResultsDto } from '@strata/contracts';
import { mockFetch, page, renderPage } from '../test-utils';
import { HoldoutDetailPage } from './HoldoutDetailPage';
import { HoldoutsPage } from './HoldoutsPage';

afterEach(() => vi.unstubAllGlobals());

/** Serious or critical axe-core violations (colour contrast needs a real renderer: the e2e suite checks it). */
async function a11yViolations(container: HTMLElement): Promise<string[]> {
  const r = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } });
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
}

const holdout: HoldoutDto = {
  key: 'global-2027',
  name: 'Global 2027',
  description: '',
  salt: 's',
  share: 0.05,
  layers: null,
  metrics: ['purchase'],
  createdAt: '2027-01-02T00:00:00.000Z',
  updatedAt: '2027-01-02T00:00:00.000Z',
};

const inference = (estimate: number, ci: [number, number], significant: boolean) => ({ method: 'asymptotic-cs', params: {}, estimate, ci, pValue: significant ? 0.001 : 0.6, significant });
const results: HoldoutResultsDto = {
  holdout: 'global-2027',
  share: 0.05,
  layers: null,
  computedAt: '2027-03-01T00:00:00.000Z',
  dataThrough: '2027-03-01T00:00:00.000Z',
  alpha: 0.05,
  correction: 'e_bh',
  units: { holdout: 500, rest: 9500 },
  srm: { counts: { holdout: 500, rest: 9500 }, expectedWeights: { holdout: 0.05, rest: 0.95 }, chiSquare: 0, pValue: 1, flagged: false },
  metrics: [
    {
      metric: 'purchase',
      name: 'Purchase rate',
      type: 'conversion',
      direction: 'increase',
      role: 'primary',
      variants: [
        { variant: 'holdout', units: 500, mean: 0.2, sum: 100, sd: 0.4, isControl: true, absolute: null, relative: null, msprt: null, cuped: null, adjustedPValue: null },
        {
          variant: 'rest',
          units: 9500,
          mean: 0.26,
          sum: 2470,
          sd: 0.44,
          isControl: false,
          absolute: { fixed: inference(0.06, [0.02, 0.1], true), sequential: inference(0.06, [0.01, 0.11], true) },
          relative: { fixed: inference(0.3, [0.1, 0.5], true), sequential: inference(0.3, [0.05, 0.55], true) },
          msprt: null,
          cuped: null,
          adjustedPValue: 0.002,
        },
      ],
    },
  ],
};

describe('holdouts', () => {
  it('lists holdouts and creates one, sending the share as a fraction and only the chosen layers', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { method: 'POST', url: '/v1/holdouts', status: 201, body: holdout },
      { url: '/v1/holdouts', body: page([holdout]) },
      { url: '/v1/layers', body: page([{ key: 'checkout', name: 'Checkout' }, { key: 'search', name: 'Search' }]) },
      { url: '/v1/metrics', body: page([{ key: 'purchase', name: 'Purchase rate' }]) },
    ]);
    const { container } = renderPage(<HoldoutsPage />);
    expect(await screen.findByRole('link', { name: 'Global 2027' })).toHaveAttribute('href', '/holdouts/global-2027');
    expect(screen.getByText('all layers')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'New holdout' }));
    await user.type(screen.getByLabelText('Key'), 'checkout-h');
    await user.type(screen.getByLabelText('Name'), 'Checkout holdout');
    await user.clear(screen.getByLabelText('Share held out (%)'));
    await user.type(screen.getByLabelText('Share held out (%)'), '2.5');
    await user.click(screen.getByLabelText(/Every layer/));
    await user.selectOptions(await screen.findByLabelText('Covered layers'), ['checkout']);
    await waitFor(() => expect(screen.getByRole('option', { name: 'Purchase rate (purchase)' })).toBeInTheDocument());
    await user.selectOptions(screen.getByLabelText(/Metrics/), ['purchase']);
    expect(await a11yViolations(container)).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Create holdout' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ key: 'checkout-h', name: 'Checkout holdout', share: 0.025, layers: ['checkout'], metrics: ['purchase'] });
  });

  it('shows the comparison with its always-valid interval and a chart, without accessibility violations', async () => {
    mockFetch([
      { url: '/v1/holdouts/global-2027/results', body: results },
      { url: '/v1/holdouts/global-2027', body: holdout },
    ]);
    const { container } = renderPage(<HoldoutDetailPage />, { path: '/holdouts/:key', route: '/holdouts/global-2027' });
    expect(await screen.findByRole('heading', { name: 'Global 2027' })).toBeInTheDocument();
    expect(await screen.findByText('+30.0%')).toBeInTheDocument();
    expect(screen.getByText('significant')).toBeInTheDocument();
    expect(screen.getByText(/500 held-out units and 9,500 others/)).toBeInTheDocument();
    expect(screen.getByRole('img', { name: /Relative lift of everyone else over the holdout on Purchase rate/ })).toBeInTheDocument();
    expect(await a11yViolations(container)).toEqual([]);
  });
});
