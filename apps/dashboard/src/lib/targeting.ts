import {
  isTargetingGroup,
  type AttributeValue,
  type TargetingCondition,
  type TargetingOperator,
  type TargetingRule,
} from '@strata/contracts';

/** Editable form of a targeting tree: values are kept as typed text until converted. */
export type ValueType = 'string' | 'number' | 'boolean';

export interface DraftCondition {
  kind: 'condition';
  id: string;
  attribute: string;
  operator: TargetingOperator;
  valueType: ValueType;
  value: string;
  /** Compared values are private: client keys get them hashed (eq, neq, in, not_in on text). */
  secure: boolean;
}

export interface DraftGroup {
  kind: 'group';
  id: string;
  match: 'all' | 'any';
  rules: DraftNode[];
}

export type DraftNode = DraftCondition | DraftGroup;

let nextId = 0;
export const newId = (): string => `r${++nextId}`;

export const OPERATOR_LABELS: Record<TargetingOperator, string> = {
  eq: 'equals',
  neq: 'does not equal',
  in: 'is one of',
  not_in: 'is not one of',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  exists: 'is set',
  regex: 'matches regex',
};

export function isListOperator(op: TargetingOperator): boolean {
  return op === 'in' || op === 'not_in';
}

export function emptyCondition(): DraftCondition {
  return { kind: 'condition', id: newId(), attribute: '', operator: 'eq', valueType: 'string', value: '', secure: false };
}

export function emptyGroup(match: 'all' | 'any' = 'all'): DraftGroup {
  return { kind: 'group', id: newId(), match, rules: [] };
}

function convert(text: string, type: ValueType): AttributeValue {
  const t = text.trim();
  if (type === 'number') return t === '' ? Number.NaN : Number(t);
  if (type === 'boolean') return t === 'true';
  return text;
}

function conditionToRule(c: DraftCondition): TargetingCondition {
  const rule = plainConditionToRule(c);
  return c.secure ? { ...rule, secure: true } : rule;
}

function plainConditionToRule(c: DraftCondition): TargetingCondition {
  if (c.operator === 'exists') return { attribute: c.attribute.trim(), operator: 'exists' };
  if (c.operator === 'regex') return { attribute: c.attribute.trim(), operator: 'regex', value: c.value };
  if (isListOperator(c.operator)) {
    const items = c.value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => convert(s, c.valueType));
    return { attribute: c.attribute.trim(), operator: c.operator, value: items };
  }
  const type = ['gt', 'gte', 'lt', 'lte'].includes(c.operator) && c.valueType === 'boolean' ? 'number' : c.valueType;
  return { attribute: c.attribute.trim(), operator: c.operator, value: convert(c.value, type) };
}

/** Draft → the JSON the API stores. */
export function draftToRule(node: DraftNode): TargetingRule {
  if (node.kind === 'condition') return conditionToRule(node);
  return { match: node.match, rules: node.rules.map(draftToRule) };
}

/** The experiment's targeting: null (everyone) when the top group has no rules. */
export function draftToTargeting(root: DraftGroup): TargetingRule | null {
  return root.rules.length === 0 ? null : draftToRule(root);
}

function typeOf(v: AttributeValue | AttributeValue[] | undefined): ValueType {
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first === 'number') return 'number';
  if (typeof first === 'boolean') return 'boolean';
  return 'string';
}

/** Stored JSON → draft (for editing an existing experiment). */
export function ruleToDraft(rule: TargetingRule): DraftNode {
  if (isTargetingGroup(rule)) return { kind: 'group', id: newId(), match: rule.match, rules: rule.rules.map(ruleToDraft) };
  const v = rule.value;
  const text = Array.isArray(v) ? v.map((x) => String(x)).join(', ') : v === undefined || v === null ? '' : String(v);
  return { kind: 'condition', id: newId(), attribute: rule.attribute, operator: rule.operator, valueType: typeOf(v), value: text, secure: rule.secure === true };
}

export function targetingToDraft(rule: TargetingRule | null): DraftGroup {
  if (!rule) return emptyGroup('all');
  const d = ruleToDraft(rule);
  return d.kind === 'group' ? d : { kind: 'group', id: newId(), match: 'all', rules: [d] };
}

/** Replaces the node with `id` anywhere in the tree. */
export function updateNode(root: DraftGroup, id: string, fn: (n: DraftNode) => DraftNode | null): DraftGroup {
  const walk = (g: DraftGroup): DraftGroup => ({
    ...g,
    rules: g.rules.flatMap((r) => {
      if (r.id === id) {
        const next = fn(r);
        return next ? [next] : [];
      }
      return r.kind === 'group' ? [walk(r)] : [r];
    }),
  });
  if (root.id === id) {
    const next = fn(root);
    return next && next.kind === 'group' ? next : root;
  }
  return walk(root);
}
