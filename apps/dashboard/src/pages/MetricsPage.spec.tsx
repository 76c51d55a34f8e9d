import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, page, renderPage } from '../test-utils';
import { MetricsPage } from './MetricsPage';

afterEach(() => vi.unstubAllGlobals());

describe('metrics', () => {
  it('creates a ratio metric, converting the harm threshold from percent, and shows API errors by field', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      {
        method: 'POST',
        url: '/v1/metrics',
        status: 400,
        body: {
          error: {
            code: 'validation_failed',
            message: 'bad',
            details: [{ path: 'denominatorEventName', message: 'ratio metrics need a denominator event' }],
          },
        },
      },
      { url: '/v1/metrics', body: page([]) },
    ]);
    renderPage(<MetricsPage />);
    await user.click(await screen.findByRole('button', { name: 'Define your first metric' }));
    await user.type(screen.getByLabelText('Key'), 'clicks-per-session');
    await user.type(screen.getByLabelText('Name'), 'Clicks per session');
    await user.selectOptions(screen.getByLabelText('Type'), 'ratio');
    await user.type(screen.getByLabelText('Numerator event'), 'click');
    await user.type(screen.getByLabelText('Guardrail harm threshold (%)'), '2');
    await user.click(screen.getByRole('button', { name: 'Create metric' }));
    const err = await screen.findByText('ratio metrics need a denominator event');
    expect(err.closest('.field')?.querySelector('input')?.id).toBe('metric-denominatorEventName');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      key: 'clicks-per-session',
      name: 'Clicks per session',
      type: 'ratio',
      eventName: 'click',
      denominatorEventName: null,
      direction: 'increase',
      winsorizePercentile: null,
      harmThreshold: 0.02,
      attributionWindowHours: null,
      cupedLookbackDays: 14,
    });
  });
});
