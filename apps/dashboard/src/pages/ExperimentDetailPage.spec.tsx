import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeTargeting } from '../lib/targeting';
import { experiment, layer, metric } from '../test-fixtures';
import { mockFetch, page, renderPage } from '../test-utils';
import { ExperimentDetailPage } from './ExperimentDetailPage';

afterEach(() => vi.unstubAllGlobals());

describe('experiment summary', () => {
  it('describes targeting in words, with nested groups', () => {
    expect(describeTargeting(null)).toBe('Everyone (no targeting)');
    expect(
      describeTargeting({
        match: 'all',
        rules: [
          { attribute: 'country', operator: 'in', value: ['DE', 'FR'] },
          {
            match: 'any',
            rules: [
              { attribute: 'plan', operator: 'eq', value: 'pro' },
              { attribute: 'age', operator: 'gte', value: 18 },
            ],
          },
          { attribute: 'email', operator: 'exists' },
        ],
      }),
    ).toBe('country is one of "DE", "FR" and (plan equals "pro" or age is at least 18) and email is set');
  });

  it('shows targeting, secondary and guardrail metrics by name, auto-stop, and variant names with weights', async () => {
    mockFetch([
      { url: '/v1/layers/homepage', body: layer() },
      {
        url: '/v1/metrics',
        body: page([metric(), metric({ key: 'revenue', name: 'Revenue per user' }), metric({ key: 'latency', name: 'Page load time' })]),
      },
      { url: '/v1/audit', body: page([]) },
      {
        url: '/v1/experiments/checkout',
        body: experiment({
          status: 'draft',
          ranges: [],
          variants: [
            { key: 'control', name: 'Control', weight: 0.4 },
            { key: 'treatment', name: 'Green button', weight: 0.6 },
          ],
          targeting: { match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['DE', 'FR'] }] },
          secondaryMetrics: ['revenue'],
          guardrailMetrics: ['latency'],
          autoStop: true,
        }),
      },
    ]);
    renderPage(<ExperimentDetailPage />, { path: '/experiments/:key', route: '/experiments/checkout' });
    const setup = await screen.findByTestId('experiment-setup');
    expect(within(setup).getByTestId('targeting-summary')).toHaveTextContent('country is one of "DE", "FR"');
    expect(setup).toHaveTextContent('Green button treatment — 60% of the experiment’s units');
    expect(setup).toHaveTextContent('Control control — 40% of the experiment’s units (control)');
    expect(await within(setup).findByRole('link', { name: 'Revenue per user' })).toBeInTheDocument();
    expect(within(setup).getByRole('link', { name: 'Page load time' })).toBeInTheDocument();
    expect(setup).toHaveTextContent('On: stops automatically when a guardrail metric shows significant harm');
  });
});
