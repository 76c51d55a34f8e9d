/**
 * @strata/bucketing: deterministic assignment of units to experiments, shared by the API and
 * the SDK. Pure and browser-safe: no I/O, no Node APIs, only types from @strata/contracts.
 * The algorithm is specified in README.md.
 */
export { sha256Hex, secureHash } from './sha256';
export { murmur3, hashUnit, hashPrefix, hashWithPrefix, type HashPrefix } from './murmur3';
export {
  BUCKETS,
  FREE_BUCKET,
  compileSnapshot,
  cumulativeWeights,
  type CompileOptions,
  type CompiledSnapshot,
  type CompiledLayer,
  type CompiledExperiment,
  type CompiledHoldout,
  type ForcedEntry,
} from './compile';
export { evaluate, evaluateExperiment, defaultsFor, layerBucket, variantDraw, pickVariant, inHoldout, holdoutOf, inShipShare, shipDraw } from './evaluate';
export { shipArm, shipExposures, type ShipArm, type ShipExposure } from './ship-exposure';
export { holdoutArm, holdoutExposures, holdoutsOfExperiment, type HoldoutArm, type HoldoutExposure } from './holdout';
export { explain, type Explanation, type ExplainOutcome } from './explain';
export {
  compileTargeting,
  findTargetingFailure,
  describeRule,
  usesRegex,
  MAX_REGEX_INPUT,
  type Predicate,
  type TargetingFailure,
} from './targeting';
// The RE2 engine itself is `@strata/bucketing/regex` (compileRe2): kept out of this entry so that
// the SDK can load it lazily.
export type { RegexCompiler, RegexTest } from './regex';
