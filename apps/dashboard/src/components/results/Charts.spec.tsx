import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ExperimentTimeseriesDto } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { dailyFromCumulative, liftDomain, niceTicks } from '../../lib/chart-scale';
import { renderPage } from '../../test-utils';
import { LiftTimeline } from './LiftTimeline';

describe('chart scales', () => {
  it('puts ticks on round values and always includes zero', () => {
    expect(niceTicks(0.013, 0.087)).toEqual({ ticks: [0, 0.02, 0.04, 0.06, 0.08, 0.1], domain: [0, 0.1] });
    expect(niceTicks(-0.037, 0.121).ticks).toEqual([-0.05, 0, 0.05, 0.1, 0.15]);
    expect(niceTicks(-0.3, -0.1).ticks).toContain(0);
  });

  it("fits the lift axis to the latest days by default instead of day one's huge interval", () => {
    const bands: [number, number][] = [
      [-0.9, 1.4],
      [-0.3, 0.5],
      [0.01, 0.09],
      [0.02, 0.08],
      [0.03, 0.07],
    ];
    expect(liftDomain(bands, 'all').domain).toEqual([-1, 1.5]);
    expect(liftDomain(bands, 'latest').domain).toEqual([0, 0.1]);
  });

  it('turns cumulative unit counts into units per day', () => {
    expect(dailyFromCumulative([100, 250, 250, 400])).toEqual([100, 150, 0, 150]);
  });
});

describe('lift over time', () => {
  const ts: ExperimentTimeseriesDto = {
    experiment: 'checkout',
    control: 'control',
    metrics: ['purchase'],
    points: Array.from({ length: 10 }, (_, i) => ({
      date: `2026-11-${String(i + 1).padStart(2, '0')}`,
      unitsByVariant: { control: 100 * (i + 1), treatment: 100 * (i + 1) },
      lift: { purchase: { treatment: { estimate: 0.05, ci: [0.05 - 1 / (i + 1), 0.05 + 1 / (i + 1)] as [number, number] } } },
    })),
  };

  it('offers cumulative / daily, fit to latest (on by default) and a date range', async () => {
    const user = userEvent.setup();
    renderPage(<LiftTimeline ts={ts} metric="purchase" name="Purchase rate" />);
    expect(screen.getByRole('button', { name: 'Cumulative lift' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByLabelText('Fit y-axis to the latest days')).toBeChecked();
    expect(screen.getByTestId('lift-timeline')).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Date range'), '7');
    await user.click(screen.getByRole('button', { name: 'Units per day' }));
    expect(screen.getByTestId('units-per-day')).toBeInTheDocument();
    expect(screen.queryByLabelText('Fit y-axis to the latest days')).toBeNull();
  });
});
