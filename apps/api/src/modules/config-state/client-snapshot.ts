import { secureHash } from '@strata/bucketing';
import type { ConfigSnapshot, TargetingCondition, TargetingRule } from '@strata/contracts';

/**
 * What an `sdk-client` key (shipped to browsers, readable by anyone) gets of the snapshot:
 * - no forced variants: their unit ids are people (QA accounts, customers); the server still
 *   applies them through remote evaluation (`/v1/assign` with the same key);
 * - every `secure` condition's values as sha256(experiment salt + value) with the salt in
 *   `hashSalt`, so that the SDK can hash the unit's value the same way and compare. The compared
 *   e-mail addresses or ids are not in the file, though a guessed value can be checked against a
 *   hash (as with GrowthBook's secure attributes): hashing hides lists, not low-entropy values.
 * Everything else (layers, salts, ranges, other rules) is needed to evaluate and stays.
 */
export function clientSnapshot(snapshot: ConfigSnapshot): ConfigSnapshot {
  return {
    ...snapshot,
    experiments: snapshot.experiments.map((e) => ({
      ...e,
      forcedVariants: [],
      targeting: e.targeting === null ? null : hideSecure(e.targeting, e.salt),
    })),
  };
}

function hideSecure(rule: TargetingRule, salt: string): TargetingRule {
  if ('match' in rule) return { match: rule.match, rules: rule.rules.map((r) => hideSecure(r, salt)) };
  if (rule.secure !== true) return rule;
  const hash = (v: unknown): string => secureHash(salt, String(v));
  const hidden: TargetingCondition = {
    attribute: rule.attribute,
    operator: rule.operator,
    value: Array.isArray(rule.value) ? rule.value.map(hash) : hash(rule.value),
    hashSalt: salt,
  };
  return hidden;
}
