import { describe, expect, it } from 'vitest';
import { MAX_ATTRIBUTE_LENGTH, attributesSchema, boundedTargetingSchema, regexPatternProblem, targetingConditionSchema } from './targeting';

describe('regex targeting patterns (RE2 syntax)', () => {
  it('accepts what RE2 matches in linear time, nested quantifiers included', () => {
    for (const p of ['^(\\w|\\d)+$', '(a|a)*$', '^([a-z]+)+@x\\.com$', '@example\\.com$', '(?i)^pro', '\\p{L}+', '(?P<n>a)', '\\++', '\\\\1', '[(?=]'])
      expect(regexPatternProblem(p), p).toBeNull();
  });

  it('names the construct RE2 does not support', () => {
    expect(regexPatternProblem('(a)\\1')).toMatch(/backreferences/);
    expect(regexPatternProblem('(?<n>a)\\k<n>')).toMatch(/named backreferences/);
    expect(regexPatternProblem('a(?=b)')).toMatch(/lookahead/);
    expect(regexPatternProblem('a(?!b)')).toMatch(/lookahead/);
    expect(regexPatternProblem('(?<=a)b')).toMatch(/lookbehind/);
    expect(regexPatternProblem('(?<!a)b')).toMatch(/lookbehind/);
    expect(regexPatternProblem('a++')).toMatch(/possessive/);
    expect(regexPatternProblem('a{2,3}+')).toMatch(/possessive/);
    expect(regexPatternProblem('(?>a)')).toMatch(/atomic/);
    expect(regexPatternProblem('\\u0041')).toMatch(/not a valid RE2 pattern: invalid escape sequence/);
    expect(regexPatternProblem('(')).toMatch(/not a valid RE2 pattern/);
    expect(regexPatternProblem('a'.repeat(201))).toMatch(/at most 200/);
  });

  it('puts the problem on the condition value', () => {
    const r = targetingConditionSchema.safeParse({ attribute: 'email', operator: 'regex', value: '(a)\\1' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['value'], message: expect.stringMatching(/backreferences/) });
  });

  it(`caps string attribute values at ${MAX_ATTRIBUTE_LENGTH} characters`, () => {
    expect(attributesSchema.safeParse({ id: 'x'.repeat(MAX_ATTRIBUTE_LENGTH) }).success).toBe(true);
    expect(attributesSchema.safeParse({ id: 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1) }).success).toBe(false);
    expect(attributesSchema.safeParse({ ids: ['x'.repeat(MAX_ATTRIBUTE_LENGTH + 1)] }).success).toBe(false);
  });
});

describe('targeting depth and size', () => {
  const deep = (levels: number): unknown => {
    let rule: unknown = { attribute: 'x', operator: 'eq', value: 1 };
    for (let i = 0; i < levels; i++) rule = { match: 'all', rules: [rule] };
    return rule;
  };

  it('refuses a 7,000-level tree with an issue instead of overflowing the stack', () => {
    const r = boundedTargetingSchema.safeParse(deep(7000));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toMatch(/at most 5 levels/);
  });

  it('refuses too many rules before parsing them, and accepts a tree within the bounds', () => {
    const wide = { match: 'any', rules: Array.from({ length: 100_000 }, () => ({ attribute: 'x', operator: 'eq', value: 1 })) };
    expect(boundedTargetingSchema.safeParse(wide).error?.issues[0].message).toMatch(/at most 50 rules/);
    expect(boundedTargetingSchema.safeParse(deep(4)).success).toBe(true);
    expect(boundedTargetingSchema.safeParse(deep(5)).success).toBe(false);
  });
});
