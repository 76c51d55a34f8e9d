import { MAX_TARGETING_DEPTH, TARGETING_OPERATORS, regexPatternProblem, type TargetingOperator } from '@strata/contracts';
import { useEffect, useState } from 'react';
import { FieldError, hasFieldError } from './FieldError';
import { loadRe2Check } from '../lib/regex-check';
import {
  OPERATOR_LABELS,
  emptyCondition,
  emptyGroup,
  isListOperator,
  updateNode,
  type DraftCondition,
  type DraftGroup,
  type ValueType,
} from '../lib/targeting';

interface Props {
  value: DraftGroup;
  onChange: (next: DraftGroup) => void;
  /** An API error whose details (e.g. `targeting.rules.0.value`) are shown beside the matching rule. */
  error?: unknown;
}

/** Nested all/any groups of attribute conditions; an empty top group targets everyone. */
export function RuleBuilder({ value, onChange, error }: Props) {
  return (
    <div className="rule-builder">
      {value.rules.length === 0 && <p className="hint">No rules: every unit is eligible. Add a condition to target a subset.</p>}
      <GroupEditor group={value} root={value} onChange={onChange} depth={1} path="targeting" error={error} />
    </div>
  );
}

interface NodeProps {
  root: DraftGroup;
  onChange: (g: DraftGroup) => void;
  path: string;
  error: unknown;
}

function GroupEditor({ group, root, onChange, depth, path, error }: NodeProps & { group: DraftGroup; depth: number }) {
  const patch = (fn: (g: DraftGroup) => DraftGroup) => onChange(updateNode(root, group.id, (n) => (n.kind === 'group' ? fn(n) : n)));
  const isRoot = group.id === root.id;
  return (
    <div
      className={`rule-group${isRoot ? ' rule-group-root' : ''}`}
      role="group"
      aria-label={isRoot ? 'Targeting rules' : 'Nested rule group'}
    >
      <div className="rule-group-head">
        <label htmlFor={`${group.id}-match`}>Match</label>
        <select
          id={`${group.id}-match`}
          value={group.match}
          onChange={(e) => patch((g) => ({ ...g, match: e.target.value as 'all' | 'any' }))}
        >
          <option value="all">all of these (AND)</option>
          <option value="any">any of these (OR)</option>
        </select>
        {!isRoot && (
          <button type="button" className="btn btn-ghost" onClick={() => onChange(updateNode(root, group.id, () => null))}>
            Remove group
          </button>
        )}
      </div>
      <FieldError error={error} path={path} />
      <FieldError error={error} path={`${path}.rules`} />
      {group.rules.map((r, i) =>
        r.kind === 'group' ? (
          <GroupEditor key={r.id} group={r} root={root} onChange={onChange} depth={depth + 1} path={`${path}.rules.${i}`} error={error} />
        ) : (
          <ConditionEditor key={r.id} condition={r} root={root} onChange={onChange} path={`${path}.rules.${i}`} error={error} />
        ),
      )}
      <div className="row-actions">
        <button type="button" className="btn" onClick={() => patch((g) => ({ ...g, rules: [...g.rules, emptyCondition()] }))}>
          Add condition
        </button>
        {depth < MAX_TARGETING_DEPTH && (
          <button
            type="button"
            className="btn"
            onClick={() => patch((g) => ({ ...g, rules: [...g.rules, { ...emptyGroup('any'), rules: [emptyCondition()] }] }))}
          >
            Add nested group
          </button>
        )}
      </div>
    </div>
  );
}

/**
 * What RE2 says about a `regex` pattern while it is typed, or null. The engine loads on the first
 * regex condition (out of the entry chunk); until then, and for other operators, nothing is shown.
 */
function useRegexProblem(operator: TargetingOperator, pattern: string): string | null {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (operator !== 'regex') return;
    let live = true;
    void loadRe2Check().then(() => live && setReady(true));
    return () => {
      live = false;
    };
  }, [operator]);
  return ready && operator === 'regex' && pattern !== '' ? regexPatternProblem(pattern) : null;
}

function ConditionEditor({ condition: c, root, onChange, path, error }: NodeProps & { condition: DraftCondition }) {
  const set = (p: Partial<DraftCondition>) => onChange(updateNode(root, c.id, (n) => ({ ...(n as DraftCondition), ...p })));
  const needsValue = c.operator !== 'exists';
  const regexProblem = useRegexProblem(c.operator, c.value);
  // The API's message for the value, when there is one, replaces the local check (each error once).
  const localProblem = regexProblem !== null && !hasFieldError(error, `${path}.value`) ? regexProblem : null;
  return (
    <div className="rule-condition">
      <div className="field">
        <label htmlFor={`${c.id}-attr`}>Attribute</label>
        <input id={`${c.id}-attr`} value={c.attribute} placeholder="country" onChange={(e) => set({ attribute: e.target.value })} />
        <FieldError error={error} path={`${path}.attribute`} />
      </div>
      <div className="field">
        <label htmlFor={`${c.id}-op`}>Operator</label>
        <select id={`${c.id}-op`} value={c.operator} onChange={(e) => set({ operator: e.target.value as TargetingOperator })}>
          {TARGETING_OPERATORS.map((op) => (
            <option key={op} value={op}>
              {op} — {OPERATOR_LABELS[op]}
            </option>
          ))}
        </select>
      </div>
      {needsValue && c.operator !== 'regex' && (
        <div className="field field-narrow">
          <label htmlFor={`${c.id}-type`}>Type</label>
          <select id={`${c.id}-type`} value={c.valueType} onChange={(e) => set({ valueType: e.target.value as ValueType })}>
            <option value="string">text</option>
            <option value="number">number</option>
            <option value="boolean">true/false</option>
          </select>
        </div>
      )}
      {needsValue && (
        <div className="field">
          <label htmlFor={`${c.id}-value`}>{isListOperator(c.operator) ? 'Values (comma-separated)' : 'Value'}</label>
          <input
            id={`${c.id}-value`}
            value={c.value}
            placeholder={isListOperator(c.operator) ? 'US, CA, GB' : c.operator === 'regex' ? '^pro-' : ''}
            aria-describedby={localProblem ? `${c.id}-value-problem` : undefined}
            onChange={(e) => set({ value: e.target.value })}
          />
          <FieldError error={error} path={`${path}.value`} />
          {localProblem && (
            <p className="field-error" id={`${c.id}-value-problem`}>
              {localProblem}
            </p>
          )}
        </div>
      )}
      {(c.secure || ['eq', 'neq', 'in', 'not_in'].includes(c.operator)) && (
        <div className="field field-narrow">
          <label htmlFor={`${c.id}-secure`} title="Client (browser) keys receive only salted SHA-256 hashes of the values">
            <input id={`${c.id}-secure`} type="checkbox" checked={c.secure} onChange={(e) => set({ secure: e.target.checked })} /> Secure
          </label>
          <FieldError error={error} path={`${path}.secure`} />
        </div>
      )}
      <FieldError error={error} path={path} />
      <button
        type="button"
        className="btn btn-ghost rule-remove"
        onClick={() => onChange(updateNode(root, c.id, () => null))}
        aria-label={`Remove condition ${c.attribute || ''}`.trim()}
      >
        Remove
      </button>
    </div>
  );
}
