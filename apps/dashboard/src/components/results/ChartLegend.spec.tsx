import { render } from '@testing-library/react';
import type { ExperimentTimeseriesDto } from '@strata/contracts';
import { cloneElement, type ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import { LiftTimeline } from './LiftTimeline';

// jsdom lays nothing out, so ResponsiveContainer would measure 0 × 0 and draw nothing: give the chart a fixed size.
vi.mock('recharts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('recharts')>();
  return {
    ...actual,
    ResponsiveContainer: ({ children }: { children: ReactElement<{ width: number; height: number }> }) =>
      cloneElement(children, { width: 640, height: 240 }),
  };
});

const ts: ExperimentTimeseriesDto = {
  experiment: 'checkout',
  control: 'control',
  metrics: ['purchase'],
  points: Array.from({ length: 3 }, (_, i) => ({
    date: `2026-11-0${i + 1}`,
    unitsByVariant: { control: 100 * (i + 1), treatment: 100 * (i + 1) },
    lift: { purchase: { treatment: { estimate: 0.05, ci: [0.01, 0.09] as [number, number] } } },
  })),
};

describe('chart legend', () => {
  it("writes the legend labels in the text colour, not in each series' colour (several of those fall below 4.5:1)", async () => {
    const { container } = render(
      <MemoryRouter>
        <LiftTimeline ts={ts} metric="purchase" name="Purchase rate" />
      </MemoryRouter>,
    );
    await vi.waitFor(() => expect(container.querySelectorAll('.recharts-legend-item-text').length).toBeGreaterThan(0));
    const labels = [...container.querySelectorAll<HTMLElement>('.recharts-legend-item-text')];
    expect(labels.map((l) => (l.querySelector('span') ?? l).style.color)).toEqual(labels.map(() => 'var(--text)'));
  });
});
