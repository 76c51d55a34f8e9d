import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { draftToTargeting, ruleToDraft, targetingToDraft, draftToRule, type DraftGroup } from '../lib/targeting';
import { RuleBuilder } from './RuleBuilder';

function Harness() {
  const [g, setG] = useState<DraftGroup>(targetingToDraft(null));
  return (
    <>
      <RuleBuilder value={g} onChange={setG} />
      <pre data-testid="json">{JSON.stringify(draftToTargeting(g))}</pre>
    </>
  );
}

const json = () => JSON.parse(screen.getByTestId('json').textContent ?? 'null') as unknown;

describe('targeting rule builder', () => {
  it('says beside the pattern what RE2 refuses, once its engine has loaded', async () => {
    const user = userEvent.setup();
    render(<Harness />);
    await user.click(screen.getAllByRole('button', { name: 'Add condition' })[0] as HTMLElement);
    await user.selectOptions(screen.getByLabelText('Operator'), 'regex');
    await user.type(screen.getByLabelText('Value'), 'a(?=b)');
    expect(await screen.findByText(/regex uses lookahead/)).toBeInTheDocument();
    expect(screen.getByLabelText('Value')).toHaveAccessibleDescription(/lookahead/);
    await user.clear(screen.getByLabelText('Value'));
    await user.type(screen.getByLabelText('Value'), '^pro-');
    expect(screen.queryByText(/regex uses/)).toBeNull();
  });

  it('targets everyone (null) until a rule is added', () => {
    render(<Harness />);
    expect(json()).toBeNull();
  });

  it('builds nested all/any groups with typed values and list operators', async () => {
    const user = userEvent.setup();
    render(<Harness />);
    await user.click(screen.getAllByRole('button', { name: 'Add condition' })[0] as HTMLElement);
    await user.type(screen.getByLabelText('Attribute'), 'country');
    await user.selectOptions(screen.getByLabelText('Operator'), 'in');
    await user.type(screen.getByLabelText('Values (comma-separated)'), 'US, CA,GB');

    await user.click(screen.getByRole('button', { name: 'Add nested group' }));
    const nested = screen.getByRole('group', { name: 'Nested rule group' });
    await user.selectOptions(within(nested).getByLabelText('Match'), 'any');
    await user.type(within(nested).getByLabelText('Attribute'), 'age');
    await user.selectOptions(within(nested).getByLabelText('Operator'), 'gte');
    await user.selectOptions(within(nested).getByLabelText('Type'), 'number');
    await user.type(within(nested).getByLabelText('Value'), '18');
    await user.click(within(nested).getByRole('button', { name: 'Add condition' }));
    const attrs = within(nested).getAllByLabelText('Attribute');
    await user.type(attrs[1] as HTMLElement, 'beta');
    await user.selectOptions(within(nested).getAllByLabelText('Operator')[1] as HTMLElement, 'exists');

    expect(json()).toEqual({
      match: 'all',
      rules: [
        { attribute: 'country', operator: 'in', value: ['US', 'CA', 'GB'] },
        {
          match: 'any',
          rules: [
            { attribute: 'age', operator: 'gte', value: 18 },
            { attribute: 'beta', operator: 'exists' },
          ],
        },
      ],
    });

    await user.click(within(nested).getByRole('button', { name: 'Remove group' }));
    expect(json()).toEqual({ match: 'all', rules: [{ attribute: 'country', operator: 'in', value: ['US', 'CA', 'GB'] }] });
  });

  it('round-trips stored rules, including booleans, regexes and secure conditions', () => {
    const rule = {
      match: 'any' as const,
      rules: [
        { attribute: 'premium', operator: 'eq' as const, value: true },
        { attribute: 'email', operator: 'in' as const, value: ['ada@example.com'], secure: true },
        { attribute: 'email', operator: 'regex' as const, value: '@acme\\.com$' },
        { match: 'all' as const, rules: [{ attribute: 'plan', operator: 'not_in' as const, value: ['free', 'trial'] }] },
      ],
    };
    expect(draftToRule(ruleToDraft(rule))).toEqual(rule);
  });
});
