import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { evenWeights, newVariant, VariantsEditor, weightsProblem, type DraftVariant } from './VariantsEditor';

function Harness({ initial }: { initial: DraftVariant[] }) {
  const [v, setV] = useState(initial);
  return (
    <>
      <VariantsEditor variants={v} onChange={setV} error={null} />
      <output data-testid="weights">{v.map((x) => x.weight).join(',')}</output>
    </>
  );
}

describe('variant weights', () => {
  it('accepts weights that sum to 1 and rejects those that do not', () => {
    expect(weightsProblem([newVariant('a', '0.5'), newVariant('b', '0.5')])).toBeNull();
    expect(weightsProblem([newVariant('a', '0.1'), newVariant('b', '0.2'), newVariant('c', '0.7')])).toBeNull();
    expect(weightsProblem([newVariant('a', '0.5'), newVariant('b', '0.4')])).toBe('Weights must sum to 1; they sum to 0.9.');
    expect(weightsProblem([newVariant('a', '1')])).toMatch(/at least 2 variants/);
    expect(weightsProblem([newVariant('a', '0'), newVariant('b', '1')])).toBe('Variant 1 needs a weight between 0 and 1.');
  });

  it('splits evenly into weights that sum to exactly 1', () => {
    expect(evenWeights(3)).toEqual(['0.3333', '0.3333', '0.3334']);
    expect(evenWeights(3).reduce((s, w) => s + Number(w), 0)).toBeCloseTo(1, 12);
  });

  it('shows the running sum as the person types, and rebalances when a variant is added', async () => {
    render(<Harness initial={[newVariant('control', '0.5'), newVariant('treatment', '0.5')]} />);
    expect(screen.getByTestId('weights-status')).toHaveTextContent('Weights sum to 1.');
    const w2 = screen.getByLabelText('Variant 2 weight');
    await userEvent.clear(w2);
    await userEvent.type(w2, '0.3');
    expect(screen.getByTestId('weights-status')).toHaveTextContent('Weights must sum to 1; they sum to 0.8.');
    await userEvent.click(screen.getByRole('button', { name: 'Add variant' }));
    expect(screen.getByTestId('weights')).toHaveTextContent('0.3333,0.3333,0.3334');
    expect(screen.getByTestId('weights-status')).toHaveTextContent('Weights sum to 1.');
    await userEvent.click(screen.getByRole('button', { name: 'Remove variant 3' }));
    expect(screen.getByLabelText('Variant 1 weight')).toHaveValue(0.3333);
    expect(screen.queryByLabelText('Variant 3 weight')).toBeNull();
    // Two variants is the minimum: remove is disabled.
    expect(screen.getByRole('button', { name: 'Remove variant 1' })).toBeDisabled();
  });
});
