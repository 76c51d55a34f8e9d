import safeRegex from 'safe-regex2';
import { z } from 'zod';
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
}

export interface TargetingGroup {
  match: 'all' | 'any';
  rules: TargetingRule[];
}

export type TargetingRule = TargetingCondition | TargetingGroup;

export const MAX_TARGETING_DEPTH = 5;
export const MAX_TARGETING_RULES = 50;

const scalar = z.union([storable(z.string().max(1000)), z.number().finite(), z.boolean(), z.null()]);

export const targetingConditionSchema = z
  .object({
    attribute: storable(z.string().min(1).max(100)),
    operator: z.enum(TARGETING_OPERATORS),
    value: z.union([scalar, z.array(scalar).max(1000)]).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
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
      if (typeof c.value !== 'string' || c.value.length > 200) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'regex needs a pattern of at most 200 characters' });
      } else {
        try {
          new RegExp(c.value);
          // Every assignment runs the pattern on the server's one thread: a nested quantifier such as
          // ^([a-z]+)+$ backtracks exponentially (32 characters held /v1/assign and /health for 3 s).
          if (!safeRegex(c.value)) {
            ctx.addIssue({
              code: 'custom',
              path: ['value'],
              message: 'regex could take exponential time (a quantifier nested in a quantified group, e.g. (a+)+): simplify it',
            });
          }
        } catch {
          ctx.addIssue({ code: 'custom', path: ['value'], message: 'regex is not a valid regular expression' });
        }
      }
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

export const boundedTargetingSchema = targetingRuleSchema.superRefine((rule, ctx) => {
  const m = measureTargeting(rule);
  if (m.depth > MAX_TARGETING_DEPTH) ctx.addIssue({ code: 'custom', message: `targeting may nest at most ${MAX_TARGETING_DEPTH} levels` });
  if (m.conditions > MAX_TARGETING_RULES) ctx.addIssue({ code: 'custom', message: `targeting may hold at most ${MAX_TARGETING_RULES} conditions` });
});

export const attributesSchema = z
  .record(storable(z.string().max(100)), z.union([scalar, z.array(scalar).max(100)]))
  .refine((a) => Object.keys(a).length <= 50, 'at most 50 attributes');
