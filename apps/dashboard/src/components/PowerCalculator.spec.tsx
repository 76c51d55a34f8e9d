import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { sampleSizeFixed, sampleSizeSequential } from '@strata/stats';
import { describe, expect, it } from 'vitest';
import { PowerCalculator } from './PowerCalculator';

const perArm = (n: number) => `${n.toLocaleString('en-US')} units per arm`;

describe('power calculator', () => {
  it('shows fixed and sequential units per arm from @strata/stats', async () => {
    const user = userEvent.setup();
    render(<PowerCalculator />);
    const fixed = sampleSizeFixed({ baselineRate: 0.1, mde: 0.05, alpha: 0.05, power: 0.8 });
    const seq = sampleSizeSequential({ baselineRate: 0.1, mde: 0.05, alpha: 0.05, power: 0.8 });
    expect(seq.perArm).toBeGreaterThan(fixed.perArm);
    expect(screen.getByTestId('power-fixed')).toHaveTextContent(perArm(fixed.perArm));
    expect(screen.getByTestId('power-sequential')).toHaveTextContent(perArm(seq.perArm));

    await user.selectOptions(screen.getByLabelText('Metric kind'), 'mean');
    await user.clear(screen.getByLabelText('Minimum detectable effect (relative %)'));
    await user.type(screen.getByLabelText('Minimum detectable effect (relative %)'), '10');
    const mean = sampleSizeFixed({ baselineMean: 50, baselineSd: 20, mde: 0.1, alpha: 0.05, power: 0.8 });
    expect(screen.getByTestId('power-fixed')).toHaveTextContent(perArm(mean.perArm));
  });

  it('hands the form the per-arm size, whatever the number of arms', async () => {
    const user = userEvent.setup();
    const used: number[] = [];
    render(<PowerCalculator arms={3} onUse={(n) => used.push(n)} />);
    const seq = sampleSizeSequential({ baselineRate: 0.1, mde: 0.05, alpha: 0.05, power: 0.8 });
    await user.click(screen.getByRole('button', { name: /per arm as planned sample size/ }));
    expect(used).toEqual([seq.perArm]);
    expect(screen.getByRole('button', { name: /per arm as planned sample size/ })).toHaveTextContent(
      `${(seq.perArm * 3).toLocaleString('en-US')} units over 3 arms`,
    );
  });

  it('explains inputs it cannot use', async () => {
    const user = userEvent.setup();
    render(<PowerCalculator />);
    await user.clear(screen.getByLabelText('Baseline rate (0–1)'));
    await user.type(screen.getByLabelText('Baseline rate (0–1)'), '1.5');
    expect(screen.getByTestId('power-fixed')).toHaveTextContent('baselineRate must be in (0, 1)');
  });

  it('pre-fills mean and SD from an observed baseline, and leaves the fields empty with a hint when there is none', () => {
    const source = { basis: 'control-of-most-recent-experiment' as const, experiments: ['basket-test'], variant: 'control' };
    const { rerender } = render(
      <PowerCalculator
        baseline={{ metric: 'basket', type: 'mean', observed: { kind: 'mean', mean: 42.123456, sd: 17.5, n: 1200 }, source, reason: null }}
      />,
    );
    expect(screen.getByLabelText('Metric kind')).toHaveValue('mean');
    expect(screen.getByLabelText('Baseline mean')).toHaveValue(42.12);
    expect(screen.getByLabelText('Standard deviation')).toHaveValue(17.5);
    expect(screen.getByTestId('power-baseline-source')).toHaveTextContent('Pre-filled from 1,200 units in experiment basket-test');

    rerender(<PowerCalculator baseline={{ metric: 'new', type: 'conversion', observed: null, source: null, reason: 'No data yet.' }} />);
    expect(screen.getByLabelText('Baseline rate (0–1)')).toHaveValue(null);
    expect(screen.getByTestId('power-baseline-source')).toHaveTextContent('No observed baseline for “new” yet');
  });
});
