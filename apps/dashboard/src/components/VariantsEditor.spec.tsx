import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { DefaultValueEditor, evenWeights, newVariant, valueInputProblem, valuesProblem, VariantsEditor, weightsProblem, type DraftValues, type DraftVariant } from './VariantsEditor';

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

function ValuesHarness() {
  const [v, setV] = useState([newVariant('control', '0.5'), newVariant('treatment', '0.5')]);
  const [values, setValues] = useState<DraftValues>({ valueType: '', defaultValue: '' });
  return (
    <>
      <VariantsEditor variants={v} onChange={setV} error={null} values={values} onValuesChange={setValues} />
      <DefaultValueEditor values={values} onValuesChange={setValues} error={null} />
      <output data-testid="values">{JSON.stringify({ type: values.valueType, values: v.map((x) => x.value), def: values.defaultValue, problem: valuesProblem(v, values) })}</output>
    </>
  );
}

describe('variant values', () => {
  it('edits a JSON value per variant with the parse error beside the field', async () => {
    render(<ValuesHarness />);
    expect(screen.queryByLabelText('Variant 1 value')).toBeNull();
    await userEvent.selectOptions(screen.getByLabelText('Value type'), 'json');
    const v1 = screen.getByLabelText('Variant 1 value');
    await userEvent.type(v1, '{{"limit": 1');
    expect(v1).toHaveAttribute('aria-invalid', 'true');
    const problem = document.getElementById('variant-0-value-problem');
    expect(problem?.textContent).toMatch(/^not valid JSON/);
    await userEvent.type(v1, '}');
    expect(document.getElementById('variant-0-value-problem')).toBeNull();
    expect(v1).toHaveAttribute('aria-invalid', 'false');
    await userEvent.type(screen.getByLabelText('Variant 2 value'), '{{"limit": 2}');
    expect(JSON.parse(screen.getByTestId('values').textContent ?? '').problem).toBe('Default value: a value is required.');
    await userEvent.type(screen.getByLabelText('Default value'), '{{}');
    expect(JSON.parse(screen.getByTestId('values').textContent ?? '')).toEqual({ type: 'json', values: ['{"limit": 1}', '{"limit": 2}'], def: '{}', problem: null });
  });

  it('checks numbers and booleans as typed', () => {
    const vs = [newVariant('a', '0.5', '1'), newVariant('b', '0.5', 'two')];
    expect(valuesProblem(vs, { valueType: 'number', defaultValue: '0' })).toMatch(/^Variant 2 value: not valid JSON/);
    expect(valueInputProblem('boolean', 'true')).toBeNull();
    expect(valueInputProblem('boolean', '')).toBe('a value is required');
    expect(valueInputProblem('string', '')).toBeNull();
  });
});
