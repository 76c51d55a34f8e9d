import { act, fireEvent, render } from '@testing-library/react';
import { cloneElement, type ReactElement } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { CiChart } from './CiChart';

// jsdom lays nothing out, so ResponsiveContainer would measure 0 × 0 and draw nothing: give the chart a fixed size.
vi.mock('recharts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('recharts')>();
  return {
    ...actual,
    ResponsiveContainer: ({ children }: { children: ReactElement<{ width: number; height: number }> }) =>
      cloneElement(children, { width: 640, height: 200 }),
  };
});

const NAME = 'Green checkout button with icon';

describe('CI chart', () => {
  it('leaves room for the whole variant name, puts ticks on round values with 0 labelled, and says what the tooltip shows', async () => {
    const { container } = render(
      <CiChart label="Lift" rows={[{ variant: 'treatment', label: NAME, estimate: 0.04, ci: [-0.013, 0.087], tone: 'neutral' }]} />,
    );
    // The keyboard (recharts' accessibility layer) opens the tooltip on the first bar.
    const svg = container.querySelector('svg') as SVGElement;
    act(() => svg.focus());
    fireEvent.keyDown(svg, { key: 'ArrowRight' });
    const texts = () => [...container.querySelectorAll('svg text')].map((t) => t.textContent);
    await vi.waitFor(() => expect(texts()).toEqual(['-2.0%', '0%', '+2.0%', '+4.0%', '+6.0%', '+8.0%', '+10.0%', NAME]));
    // The plot starts right of the category axis: that axis is wide enough for the name (about 7 px a character).
    const plotLeft = Number(container.querySelector('clipPath rect')?.getAttribute('x'));
    expect(plotLeft).toBeGreaterThanOrEqual(7 * NAME.length);

    const tooltip = container.querySelector('.recharts-tooltip-wrapper') as HTMLElement;
    await vi.waitFor(() => expect(tooltip.querySelector('.recharts-tooltip-label')?.textContent).toBe(`Lift of ${NAME} vs control`));
    expect(tooltip.querySelector('.recharts-tooltip-item')?.textContent).toBe('Interval: -1.3% to +8.7%');
  });
});
