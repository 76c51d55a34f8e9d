import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { verdictFor } from '../../lib/verdict';
import { inference, metricResult, row } from '../../test-fixtures';
import { MetricResultCard } from './MetricResultCard';

describe('results table verdicts', () => {
  it('calls a significant lift in the good direction an improvement, with its interval', () => {
    const m = metricResult([row('control', true, null), row('treatment', false, inference(0.12, [0.05, 0.19], true, 0.001), 2000, 0.112)]);
    render(<MetricResultCard metric={m} mode="sequential" cuped={false} />);
    const treatment = screen.getByRole('row', { name: /treatment/ });
    expect(within(treatment).getByText('+12.0%')).toBeInTheDocument();
    expect(within(treatment).getByText('+5.0% to +19.0%')).toBeInTheDocument();
    expect(within(treatment).getByText('11.20%')).toBeInTheDocument();
    expect(within(treatment).getByText('2,000')).toBeInTheDocument();
    expect(
      within(treatment).getByText('treatment increases Purchase rate by +12.0% (+5.0% to +19.0%); this is a significant improvement.'),
    ).toBeInTheDocument();
    expect(screen.getByRole('row', { name: /control/ })).toHaveTextContent('Control: the baseline');
  });

  it('calls an interval that includes zero "no detectable difference yet"', () => {
    const v = verdictFor({ name: 'Revenue', direction: 'increase' }, row('b', false, null), inference(0.02, [-0.01, 0.05], false));
    expect(v).toEqual({
      tone: 'neutral',
      text: 'No detectable difference yet: b changes Revenue by +2.0%, but the interval (-1.0% to +5.0%) still includes zero.',
    });
  });

  it('calls a significant rise of a lower-is-better metric a harm', () => {
    const v = verdictFor({ name: 'Load time', direction: 'decrease' }, row('b', false, null), inference(0.08, [0.03, 0.13], true));
    expect(v.tone).toBe('loss');
    expect(v.text).toBe('b increases Load time by +8.0% (+3.0% to +13.0%); this is a significant harm.');
  });

  it('says there is not enough data when the estimate is undefined', () => {
    const inf = { ...inference(0, null, false), reason: 'fewer than 2 units in a variant' };
    expect(verdictFor({ name: 'X', direction: 'increase' }, row('b', false, null), inf).text).toBe(
      'Not enough data yet to compare b with control (fewer than 2 units in a variant).',
    );
  });

  it('switches between sequential and fixed-horizon intervals', () => {
    const t = row('treatment', false, inference(0.1, [0.01, 0.19], true));
    t.relative = { sequential: inference(0.1, [-0.02, 0.22], false), fixed: inference(0.1, [0.03, 0.17], true) };
    const m = metricResult([row('control', true, null), t]);
    const { rerender } = render(<MetricResultCard metric={m} mode="sequential" cuped={false} />);
    expect(screen.getByRole('row', { name: /treatment/ })).toHaveTextContent('-2.0% to +22.0%');
    expect(screen.getByRole('row', { name: /treatment/ })).toHaveTextContent('No detectable difference yet');
    rerender(<MetricResultCard metric={m} mode="fixed" cuped={false} />);
    expect(screen.getByRole('row', { name: /treatment/ })).toHaveTextContent('+3.0% to +17.0%');
    expect(screen.getByRole('row', { name: /treatment/ })).toHaveTextContent('significant improvement');
  });

  it('uses the CUPED-adjusted comparison when switched on and the metric has one', () => {
    const t = row('treatment', false, inference(0.1, [-0.02, 0.22], false));
    t.cuped = {
      theta: 0.5,
      varianceReduction: 0.4,
      absolute: inference(0.01, [0.001, 0.02], true),
      relative: inference(0.1, [0.04, 0.16], true),
    };
    const m = metricResult([row('control', true, null), t]);
    render(<MetricResultCard metric={m} mode="sequential" cuped={true} />);
    expect(screen.getByRole('row', { name: /treatment/ })).toHaveTextContent('+4.0% to +16.0%');
    expect(screen.getByText(/CUPED-adjusted/)).toBeInTheDocument();
  });
});
