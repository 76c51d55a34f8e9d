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
});
