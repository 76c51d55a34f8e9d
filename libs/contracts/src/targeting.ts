import { z } from 'zod';
import { re2PatternProblem } from './regex-pattern';
import { storable } from './text';


/** Operators a targeting condition may use on a unit attribute. */
export const TARGETING_OPERATORS = ['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists', 'regex'] as const;
export type TargetingOperator = (typeof TARGETING_OPERATORS)[number];

export type AttributeValue = string | number | boolean | null;
export type Attributes = Record<string, AttributeValue | AttributeValue[]>;

export interface TargetingCondition {
  attribute: string;
  operator: TargetingOperator;
  value?: AttributeValue | AttributeValue[];
  /**
   * The compared values are private (e-mail addresses, user ids): snapshots for `sdk-client` keys,
   * which ship to browsers, carry them only as `sha256(hashSalt + value)` (eq, neq, in, not_in on strings).
   */
  secure?: boolean;
  /** Set only in client snapshots: `value` holds hashes salted with this, and the unit's value is hashed the same way. */
  hashSalt?: string;
}

/** Operators a `secure` condition may use: equality only, which survives hashing. */
export const SECURE_OPERATORS: readonly TargetingOperator[] = ['eq', 'neq', 'in', 'not_in'];

export interface TargetingGroup {
  match: 'all' | 'any';
  rules: TargetingRule[];
}

export type TargetingRule = TargetingCondition | TargetingGroup;

export const MAX_TARGETING_DEPTH = 5;
export const MAX_TARGETING_RULES = 50;
/** Longest string attribute value (and targeting value), in UTF-16 code units. */
export const MAX_ATTRIBUTE_LENGTH = 1000;
export const MAX_REGEX_PATTERN = 200;

/**
 * Why a `regex` pattern cannot be saved, or null. Patterns are RE2 syntax (https://github.com/google/re2/wiki/Syntax),
 * the engine the API and the SDK evaluate them with (re2js, linear time): everything JavaScript's
 * RegExp offers except backreferences, lookaround, possessive quantifiers and atomic groups.
 *
 * The RE2 part is its own module (re2js is ~150 kB minified): the dashboard's build swaps it for
 * one that loads the engine on demand, out of its entry chunk (apps/dashboard/vite.config.mts).
 */
export function regexPatternProblem(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_PATTERN) return `regex needs a pattern of at most ${MAX_REGEX_PATTERN} characters`;
  return re2PatternProblem(pattern);
}

const scalar = z.union([storable(z.string().max(MAX_ATTRIBUTE_LENGTH)), z.number().finite(), z.boolean(), z.null()]);

export const targetingConditionSchema = z
  .object({
    attribute: storable(z.string().min(1).max(100)),
    operator: z.enum(TARGETING_OPERATORS),
    value: z.union([scalar, z.array(scalar).max(1000)]).optional(),
    secure: z.boolean().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.secure === true) {
      const values = Array.isArray(c.value) ? c.value : [c.value];
      if (!SECURE_OPERATORS.includes(c.operator) || !values.every((v) => typeof v === 'string')) {
        ctx.addIssue({
          code: 'custom',
          path: ['secure'],
          message: `a secure condition compares strings for equality (${SECURE_OPERATORS.join(', ')}): client keys only see hashes of its values`,
        });
      }
    }
    const list = c.operator === 'in' || c.operator === 'not_in';
    if (c.operator === 'exists') return;
    if (c.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator "${c.operator}" needs a value` });
      return;
    }
    if (list && !Array.isArray(c.value)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator "${c.operator}" needs an array value` });
    }
    if (!list && Array.isArray(c.value)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator "${c.operator}" needs a single value` });
    }
    if (['gt', 'gte', 'lt', 'lte'].includes(c.operator) && typeof c.value !== 'number' && typeof c.value !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator "${c.operator}" needs a number or string` });
    }
    if (c.operator === 'regex') {
      const problem = typeof c.value === 'string' ? regexPatternProblem(c.value) : 'regex needs a string pattern';
      if (problem !== null) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
    }
  });

export const targetingRuleSchema: z.ZodType<TargetingRule> = z.lazy(() =>
  z.union([
    targetingConditionSchema,
    z.object({ match: z.enum(['all', 'any']), rules: z.array(targetingRuleSchema).max(MAX_TARGETING_RULES) }).strict(),
  ]),
) as z.ZodType<TargetingRule>;

export function isTargetingGroup(rule: TargetingRule): rule is TargetingGroup {
  return 'match' in rule;
}

/** Depth and size of a rule tree, bounded so evaluation stays cheap. */
export function measureTargeting(rule: TargetingRule, depth = 1): { depth: number; conditions: number } {
  if (!isTargetingGroup(rule)) return { depth, conditions: 1 };
  let maxDepth = depth;
  let conditions = 0;
  for (const child of rule.rules) {
    const m = measureTargeting(child, depth + 1);
    maxDepth = Math.max(maxDepth, m.depth);
    conditions += m.conditions;
  }
  return { depth: maxDepth, conditions };
}

/**
 * Depth and size of an untrusted rule tree, walked without recursion and given up at the first
 * excess: a 7,000-level tree would overflow the stack of the recursive schema (a 500 before).
 */
export function targetingShapeProblem(value: unknown): string | null {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > MAX_TARGETING_DEPTH) return `targeting may nest at most ${MAX_TARGETING_DEPTH} levels`;
    // Groups plus conditions: a tree of 50 conditions has fewer than 2 × 50 nodes.
    if (++nodes > 2 * MAX_TARGETING_RULES) return `targeting may hold at most ${MAX_TARGETING_RULES} conditions`;
    const rules = typeof node === 'object' && node !== null ? (node as { rules?: unknown }).rules : undefined;
    if (Array.isArray(rules)) {
      if (rules.length > MAX_TARGETING_RULES) return `a targeting group may hold at most ${MAX_TARGETING_RULES} rules`;
      for (const child of rules) stack.push({ node: child, depth: depth + 1 });
    }
  }
  return null;
}

/** Targeting as saved: shape bounded first (no recursion on untrusted depth), then the schema, then the counts. */
export const boundedTargetingSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = targetingShapeProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, abort: true });
  })
  .pipe(
    targetingRuleSchema.superRefine((rule, ctx) => {
      const m = measureTargeting(rule);
      if (m.depth > MAX_TARGETING_DEPTH) ctx.addIssue({ code: 'custom', message: `targeting may nest at most ${MAX_TARGETING_DEPTH} levels` });
      if (m.conditions > MAX_TARGETING_RULES) ctx.addIssue({ code: 'custom', message: `targeting may hold at most ${MAX_TARGETING_RULES} conditions` });
    }),
  );

export const attributesSchema = z
  .record(storable(z.string().max(100)), z.union([scalar, z.array(scalar).max(100)]))
  .refine((a) => Object.keys(a).length <= 50, 'at most 50 attributes');
