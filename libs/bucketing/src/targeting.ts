import type { AttributeValue, Attributes, TargetingCondition, TargetingGroup, TargetingRule } from '@strata/contracts';
import type { RegexCompiler, RegexTest } from './regex';
import { secureHash } from './sha256';

/**
 * Longest string a `regex` condition tests; a longer value does not match. The API refuses
 * attribute values over this length (400), so local and remote evaluation agree. Same value as
 * `MAX_ATTRIBUTE_LENGTH` in @strata/contracts (a spec test checks that they agree).
 */
export const MAX_REGEX_INPUT = 1000;

/**
 * Targeting semantics (also in README.md, "Targeting"):
 *
 * - A missing attribute (absent, `undefined` or `null`) makes every condition false, `neq` and
 *   `not_in` included: a rule about an attribute never matches a unit that did not send it.
 *   Only `exists` looks at presence: `exists` (value omitted or `true`) is true when present,
 *   `exists` with `value: false` is true when missing.
 * - `eq`/`neq`/`in`/`not_in` compare with strict equality: no coercion, `"1"` is not `1`.
 * - `gt`/`gte`/`lt`/`lte` compare number with number, or string with string (JavaScript `<`,
 *   i.e. by UTF-16 code units). Any other pairing is false.
 * - `regex` tests string attributes of at most MAX_REGEX_INPUT characters with the pattern
 *   compiled once by the regex engine (RE2 syntax, no flags, linear time; see regex.ts); a
 *   pattern that fails to compile, or no engine given, makes the condition false instead of
 *   breaking the whole snapshot.
 * - A condition with `hashSalt` (client snapshots of `secure` conditions) holds sha256(hashSalt +
 *   value) hashes: `eq`/`neq`/`in`/`not_in` hash the unit's string value the same way and compare.
 * - An array-valued attribute matches `eq`, `in`, `gt`…`lte` and `regex` if any element does;
 *   `neq` and `not_in` are their negations on a present attribute: no element may match.
 * - A group `all` needs every rule (an empty `all` is true); `any` needs one (an empty `any`
 *   is false). An unknown operator is false.
 */

/** A compiled rule: pure, allocation-free when called. */
export type Predicate = (attributes: Attributes) => boolean;

// Shared; the identity matters only to skip calls, never mutated.
const alwaysTrue: Predicate = () => true;
const alwaysFalse: Predicate = () => false;

export function isGroup(rule: TargetingRule): rule is TargetingGroup {
  return 'match' in rule;
}

function isMissing(v: AttributeValue | AttributeValue[] | undefined): v is null | undefined {
  return v === undefined || v === null;
}

/** Applies a scalar test to an attribute value, or to any element of an array attribute. */
function some(v: AttributeValue | AttributeValue[], test: (x: AttributeValue) => boolean): boolean {
  if (!Array.isArray(v)) return test(v);
  for (let i = 0; i < v.length; i++) if (test(v[i])) return true;
  return false;
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', target: AttributeValue): (x: AttributeValue) => boolean {
  const kind = typeof target;
  if (kind !== 'number' && kind !== 'string') return () => false;
  const t = target as number | string;
  switch (op) {
    case 'gt':
      return (x) => typeof x === kind && (x as number | string) > t;
    case 'gte':
      return (x) => typeof x === kind && (x as number | string) >= t;
    case 'lt':
      return (x) => typeof x === kind && (x as number | string) < t;
    case 'lte':
      return (x) => typeof x === kind && (x as number | string) <= t;
  }
}

/** The scalar test of a condition, before the missing-attribute and array rules apply. */
/**
 * A client snapshot's `secure` condition: its values are sha256(salt + value) hashes, so the
 * unit's string is hashed the same way and compared (equality operators only; numbers never match).
 */
function hashedTest(c: TargetingCondition, salt: string): (x: AttributeValue) => boolean {
  const list = Array.isArray(c.value) ? c.value : c.value === undefined ? [] : [c.value];
  const hashes = new Set(list.filter((v): v is string => typeof v === 'string'));
  return (x) => typeof x === 'string' && hashes.has(secureHash(salt, x));
}

function scalarTest(c: TargetingCondition, regex: RegexCompiler | null): ((x: AttributeValue) => boolean) | null {
  const value = c.value;
  if (typeof c.hashSalt === 'string') {
    // Only equality survives hashing; any other operator on a hashed condition never matches.
    return c.operator === 'eq' || c.operator === 'neq' || c.operator === 'in' || c.operator === 'not_in' ? hashedTest(c, c.hashSalt) : () => false;
  }
  switch (c.operator) {
    case 'eq':
    case 'neq': {
      if (value === undefined || Array.isArray(value)) return () => false;
      return (x) => x === value;
    }
    case 'in':
    case 'not_in': {
      const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
      // Small lists: a linear scan beats hashing; big ones: a Set.
      if (list.length > 8) {
        const set = new Set<AttributeValue>(list);
        return (x) => set.has(x);
      }
      return (x) => list.includes(x);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (value === undefined || Array.isArray(value)) return () => false;
      return compare(c.operator, value);
    case 'regex': {
      if (typeof value !== 'string' || regex === null) return () => false;
      let test: RegexTest;
      try {
        test = regex(value);
      } catch {
        return () => false;
      }
      return (x) => typeof x === 'string' && x.length <= MAX_REGEX_INPUT && test(x);
    }
    case 'exists':
      // Presence only; compileCondition handles it before asking for a scalar test.
      return null;
    default:
      // An operator this version does not know (newer snapshot): the condition is false.
      return null;
  }
}

function compileCondition(c: TargetingCondition, regex: RegexCompiler | null): Predicate {
  const name = c.attribute;
  if (c.operator === 'exists') {
    const wantPresent = c.value !== false;
    return (a) => !isMissing(a[name]) === wantPresent;
  }
  const test = scalarTest(c, regex);
  if (test === null) return alwaysFalse;
  if (c.operator === 'neq' || c.operator === 'not_in') {
    return (a) => {
      const v = a[name];
      return !isMissing(v) && !some(v, test);
    };
  }
  return (a) => {
    const v = a[name];
    return !isMissing(v) && some(v, test);
  };
}

/**
 * Compiles a rule tree once per snapshot: regexes and sets are built here, not per unit.
 * `regex` compiles the patterns of `regex` conditions (`compileRe2`); without one they are false.
 */
export function compileTargeting(rule: TargetingRule | null, regex: RegexCompiler | null = null): Predicate {
  if (rule === null) return alwaysTrue;
  if (!isGroup(rule)) return compileCondition(rule, regex);
  const children = rule.rules.map((child) => compileTargeting(child, regex));
  const n = children.length;
  if (rule.match === 'all') {
    if (n === 0) return alwaysTrue;
    if (n === 1) return children[0];
    return (a) => {
      for (let i = 0; i < n; i++) if (!children[i](a)) return false;
      return true;
    };
  }
  if (n === 0) return alwaysFalse;
  if (n === 1) return children[0];
  return (a) => {
    for (let i = 0; i < n; i++) if (children[i](a)) return true;
    return false;
  };
}

/** Why a rule tree failed: the path of child indexes from the root to the deciding rule. */
export interface TargetingFailure {
  /** Indexes into `rules` from the root; `[]` is the root itself. */
  path: number[];
  /** The failing condition, or the `any` group none of whose rules matched. */
  rule: TargetingRule;
  /** The unit's value of the condition's attribute (undefined for a group or a missing one). */
  actual?: AttributeValue | AttributeValue[];
}

/**
 * Finds the first reason a rule tree rejects the attributes, or null if it accepts them.
 * Not on the hot path: used by `explain` only.
 */
export function findTargetingFailure(
  rule: TargetingRule | null,
  attributes: Attributes,
  regex: RegexCompiler | null = null,
  path: number[] = [],
): TargetingFailure | null {
  if (rule === null) return null;
  if (!isGroup(rule)) {
    if (compileCondition(rule, regex)(attributes)) return null;
    const actual = attributes[rule.attribute];
    return actual === undefined ? { path, rule } : { path, rule, actual };
  }
  if (rule.match === 'all') {
    for (let i = 0; i < rule.rules.length; i++) {
      const f = findTargetingFailure(rule.rules[i], attributes, regex, [...path, i]);
      if (f) return f;
    }
    return null;
  }
  for (let i = 0; i < rule.rules.length; i++) {
    if (findTargetingFailure(rule.rules[i], attributes, regex, [...path, i]) === null) return null;
  }
  // A single-rule `any` fails exactly where its child does: point there, it is more useful.
  if (rule.rules.length === 1) return findTargetingFailure(rule.rules[0], attributes, regex, [...path, 0]);
  return { path, rule };
}

/** True when a rule tree has a `regex` condition (the SDK then loads the regex engine first). */
export function usesRegex(rule: TargetingRule | null): boolean {
  if (rule === null) return false;
  if (!isGroup(rule)) return rule.operator === 'regex';
  return rule.rules.some(usesRegex);
}

/** A short human form of a condition, e.g. `country in ["DE","FR"]`. */
export function describeRule(rule: TargetingRule): string {
  if (isGroup(rule)) return `${rule.match === 'all' ? 'all' : 'any'} of ${rule.rules.length} rule(s)`;
  if (rule.operator === 'exists') return rule.value === false ? `${rule.attribute} is missing` : `${rule.attribute} exists`;
  return `${rule.attribute} ${rule.operator} ${JSON.stringify(rule.value)}`;
}
