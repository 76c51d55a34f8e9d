import type { Attributes, TargetingRule } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { compileRe2 } from './regex';
import { compileTargeting, findTargetingFailure, MAX_REGEX_INPUT, usesRegex } from './targeting';

const holds = (rule: TargetingRule, attributes: Attributes): boolean => compileTargeting(rule, compileRe2)(attributes);

describe('targeting', () => {
  it('matches everyone when there is no rule', () => {
    expect(compileTargeting(null)({})).toBe(true);
  });

  it('makes every condition on a missing attribute false, neq and not_in included', () => {
    for (const rule of [
      { attribute: 'country', operator: 'eq', value: 'DE' },
      { attribute: 'country', operator: 'neq', value: 'DE' },
      { attribute: 'country', operator: 'in', value: ['DE'] },
      { attribute: 'country', operator: 'not_in', value: ['DE'] },
      { attribute: 'age', operator: 'gt', value: 1 },
      { attribute: 'age', operator: 'lte', value: 1 },
      { attribute: 'email', operator: 'regex', value: '.*' },
      { attribute: 'country', operator: 'exists' },
    ] as TargetingRule[]) {
      expect(holds(rule, {}), JSON.stringify(rule)).toBe(false);
      expect(holds(rule, { country: null, age: null, email: null }), JSON.stringify(rule)).toBe(false);
    }
  });

  it('tests presence with exists, and absence with exists false', () => {
    expect(holds({ attribute: 'plan', operator: 'exists' }, { plan: 'pro' })).toBe(true);
    expect(holds({ attribute: 'plan', operator: 'exists', value: true }, { plan: false })).toBe(true);
    expect(holds({ attribute: 'plan', operator: 'exists', value: false }, {})).toBe(true);
    expect(holds({ attribute: 'plan', operator: 'exists', value: false }, { plan: 'pro' })).toBe(false);
  });

  it('compares eq and in strictly, without coercion', () => {
    expect(holds({ attribute: 'n', operator: 'eq', value: 1 }, { n: 1 })).toBe(true);
    expect(holds({ attribute: 'n', operator: 'eq', value: 1 }, { n: '1' })).toBe(false);
    expect(holds({ attribute: 'b', operator: 'eq', value: true }, { b: true })).toBe(true);
    expect(holds({ attribute: 'c', operator: 'in', value: ['DE', 'FR'] }, { c: 'FR' })).toBe(true);
    expect(holds({ attribute: 'c', operator: 'not_in', value: ['DE', 'FR'] }, { c: 'US' })).toBe(true);
    expect(holds({ attribute: 'c', operator: 'neq', value: 'DE' }, { c: 'US' })).toBe(true);
    const many = Array.from({ length: 20 }, (_, i) => `c${i}`);
    expect(holds({ attribute: 'c', operator: 'in', value: many }, { c: 'c17' })).toBe(true);
    expect(holds({ attribute: 'c', operator: 'in', value: many }, { c: 'c20' })).toBe(false);
  });

  it('compares numbers with numbers and strings with strings only', () => {
    expect(holds({ attribute: 'age', operator: 'gte', value: 18 }, { age: 18 })).toBe(true);
    expect(holds({ attribute: 'age', operator: 'gt', value: 18 }, { age: 18 })).toBe(false);
    expect(holds({ attribute: 'age', operator: 'lt', value: 18 }, { age: '5' })).toBe(false);
    expect(holds({ attribute: 'v', operator: 'lt', value: '2.0' }, { v: '10.0' })).toBe(true); // lexicographic
    expect(holds({ attribute: 'v', operator: 'lte', value: 'b' }, { v: 'b' })).toBe(true);
    expect(holds({ attribute: 'v', operator: 'gt', value: 1 }, { v: true })).toBe(false);
  });

  it('matches array attributes if any element matches, and neq/not_in if none does', () => {
    const a = { tags: ['beta', 'staff'] };
    expect(holds({ attribute: 'tags', operator: 'eq', value: 'staff' }, a)).toBe(true);
    expect(holds({ attribute: 'tags', operator: 'in', value: ['x', 'beta'] }, a)).toBe(true);
    expect(holds({ attribute: 'tags', operator: 'neq', value: 'staff' }, a)).toBe(false);
    expect(holds({ attribute: 'tags', operator: 'not_in', value: ['x'] }, a)).toBe(true);
    expect(holds({ attribute: 'tags', operator: 'regex', value: '^st' }, a)).toBe(true);
    expect(holds({ attribute: 'scores', operator: 'gt', value: 5 }, { scores: [1, 9] })).toBe(true);
  });

  it('tests regexes on strings only and treats an invalid pattern as no match', () => {
    expect(holds({ attribute: 'email', operator: 'regex', value: '@example\\.com$' }, { email: 'a@example.com' })).toBe(true);
    expect(holds({ attribute: 'email', operator: 'regex', value: '1' }, { email: 1 })).toBe(false);
    expect(holds({ attribute: 'email', operator: 'regex', value: '(' }, { email: '(' })).toBe(false);
  });

  it('evaluates regexes with RE2: no backreferences or lookaround, classic backtracking bombs in linear time', () => {
    // JavaScript's RegExp would backtrack 2^n times on each of these (n = 999): the test would never end.
    const digits = `${'1'.repeat(MAX_REGEX_INPUT - 1)}!`;
    const as = `${'a'.repeat(MAX_REGEX_INPUT - 1)}!`;
    let evaluations = 0;
    for (let i = 0; i < 50; i++) {
      expect(holds({ attribute: 'id', operator: 'regex', value: '^(\\w|\\d)+$' }, { id: digits })).toBe(false);
      expect(holds({ attribute: 'id', operator: 'regex', value: '^(a|a)*$' }, { id: as })).toBe(false);
      expect(holds({ attribute: 'id', operator: 'regex', value: '(a|a)*$' }, { id: as })).toBe(true);
      evaluations += 3;
    }
    expect(evaluations).toBe(150);
    // RE2 refuses what would need backtracking: the condition is false, the snapshot still compiles.
    expect(holds({ attribute: 'id', operator: 'regex', value: '(a)\\1' }, { id: 'aa' })).toBe(false);
    expect(holds({ attribute: 'id', operator: 'regex', value: 'a(?=b)' }, { id: 'ab' })).toBe(false);
  });

  it('does not test strings longer than the attribute cap, and is false without an engine', () => {
    const rule: TargetingRule = { attribute: 'id', operator: 'regex', value: '^a+$' };
    expect(holds(rule, { id: 'a'.repeat(MAX_REGEX_INPUT) })).toBe(true);
    expect(holds(rule, { id: 'a'.repeat(MAX_REGEX_INPUT + 1) })).toBe(false);
    expect(compileTargeting(rule)({ id: 'a' })).toBe(false);
    expect(usesRegex(rule)).toBe(true);
    expect(usesRegex({ match: 'any', rules: [{ attribute: 'x', operator: 'eq', value: 1 }, { match: 'all', rules: [rule] }] })).toBe(true);
    expect(usesRegex({ attribute: 'x', operator: 'eq', value: 1 })).toBe(false);
    expect(usesRegex(null)).toBe(false);
  });

  it('needs every rule of an all group and one rule of an any group, nested', () => {
    const rule: TargetingRule = {
      match: 'all',
      rules: [
        { attribute: 'country', operator: 'in', value: ['DE', 'AT'] },
        { match: 'any', rules: [{ attribute: 'plan', operator: 'eq', value: 'pro' }, { attribute: 'age', operator: 'gte', value: 30 }] },
      ],
    };
    expect(holds(rule, { country: 'DE', plan: 'pro' })).toBe(true);
    expect(holds(rule, { country: 'AT', age: 31 })).toBe(true);
    expect(holds(rule, { country: 'AT', age: 20 })).toBe(false);
    expect(holds(rule, { country: 'US', plan: 'pro' })).toBe(false);
    expect(holds({ match: 'all', rules: [] }, {})).toBe(true);
    expect(holds({ match: 'any', rules: [] }, {})).toBe(false);
  });

  it('reports the path of the condition that failed', () => {
    const rule: TargetingRule = {
      match: 'all',
      rules: [
        { attribute: 'country', operator: 'eq', value: 'DE' },
        { match: 'all', rules: [{ attribute: 'plan', operator: 'exists' }, { attribute: 'age', operator: 'gte', value: 18 }] },
      ],
    };
    expect(findTargetingFailure(rule, { country: 'DE', plan: 'pro', age: 18 })).toBeNull();
    expect(findTargetingFailure(rule, { country: 'DE', plan: 'pro', age: 12 })).toEqual({
      path: [1, 1],
      rule: { attribute: 'age', operator: 'gte', value: 18 },
      actual: 12,
    });
    const any: TargetingRule = { match: 'any', rules: [{ attribute: 'a', operator: 'exists' }, { attribute: 'b', operator: 'exists' }] };
    expect(findTargetingFailure(any, {})).toEqual({ path: [], rule: any });
  });
});
