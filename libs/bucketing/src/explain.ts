import type { Assignment, Attributes, ConfigSnapshot, VariantValue } from '@strata/contracts';
import { BUCKETS, compileSnapshot, FREE_BUCKET, type CompiledExperiment, type CompileOptions, type CompiledSnapshot } from './compile';
import { forcedElsewhere, holdoutOf, isActive, pickVariant, shipDraw, variantDraw } from './evaluate';
import { hashWithPrefix } from './murmur3';
import { describeRule, findTargetingFailure, type TargetingFailure } from './targeting';

/** Why a unit has (or lacks) an assignment in an experiment. Not on the hot path. */
export type ExplainOutcome =
  /** Not in the snapshot: the key is unknown, or the experiment is a draft or stopped. */
  | 'unknown_experiment'
  /** In the snapshot but cannot assign: its layer is missing, it has no variants, or it is shipped without a shipped variant. */
  | 'not_running'
  | 'forced'
  /** The unit is in a holdout covering the experiment's layer: no assignment there, not even a shipped one. */
  | 'in_holdout'
  | 'targeting_failed'
  | 'shipped'
  /** A staged ship: the unit's ship draw is not below the ship share, so it gets the default. */
  | 'outside_ship_share'
  /** The unit's bucket is held by no running experiment of the layer. */
  | 'bucket_not_held'
  | 'bucket_held_by_other'
  /** The unit is forced into another running experiment of the same layer, which takes its slot. */
  | 'forced_elsewhere'
  | 'bucketed';

export interface Explanation {
  experiment: string;
  layer: string | null;
  outcome: ExplainOutcome;
  /** The same value `evaluateExperiment` returns. */
  assignment: Assignment | null;
  /** The unit's bucket in the layer, once the bucket step was reached. */
  bucket?: number;
  /** The holdout keeping the unit out, for `in_holdout`. */
  holdout?: string;
  /** The experiment holding `bucket`, when it is another one. */
  heldBy?: string;
  /** The variant draw in [0, 1), for `bucketed`; the ship draw, for a staged ship (`shipped`, `outside_ship_share`). */
  u?: number;
  /** The ship share the ship draw was compared against (`u < shipShare`), for a staged ship. */
  shipShare?: number;
  /** The cumulative weight boundaries the draw was compared against (`u < cumulative[i]`). */
  cumulative?: number[];
  /** Where targeting failed, for `targeting_failed`. */
  targeting?: TargetingFailure;
  /** Expiry of the forced variant, for `forced` (null = never). */
  forcedExpiresAt?: string | null;
  /**
   * The value the unit gets, for an experiment with values: its variant's value (`valueSource`
   * `variant`), or the experiment's default value when it has no assignment (`default`).
   */
  value?: VariantValue;
  valueSource?: 'variant' | 'default';
  /** One human sentence (for an experiment with values, which value and why). */
  message: string;
}

function isCompiled(s: ConfigSnapshot | CompiledSnapshot): s is CompiledSnapshot {
  return 'byKey' in s;
}

/**
 * Explains the assignment of one unit in one experiment, following the evaluation order:
 * forced → holdout → targeting → (shipped) → layer bucket → variant. Its `assignment` always equals
 * `evaluateExperiment` for the same input. Accepts a raw snapshot for convenience (compiled on
 * each call with `options`, so pass a compiled one in loops; `regex` conditions need
 * `options.regex` or a snapshot compiled with it).
 */
export function explain(
  snapshot: ConfigSnapshot | CompiledSnapshot,
  unitId: string,
  attributes: Attributes,
  experimentKey: string,
  options: CompileOptions = {},
): Explanation {
  const c = isCompiled(snapshot) ? snapshot : compileSnapshot(snapshot, undefined, options);
  const e = explainAssignment(c, unitId, attributes, experimentKey);
  const exp = c.byKey.get(experimentKey);
  return exp === undefined || exp.valueType === null ? e : withValue(e, exp);
}

function show(v: VariantValue): string {
  const json = JSON.stringify(v);
  return json.length > 200 ? `${json.slice(0, 200)}…` : json;
}

function withValue(e: Explanation, exp: CompiledExperiment): Explanation {
  if (e.assignment !== null && e.assignment.value !== undefined) {
    const why = e.assignment.reason === 'shipped' ? `the shipped variant "${e.assignment.variant}"` : `variant "${e.assignment.variant}"`;
    return { ...e, value: e.assignment.value, valueSource: 'variant', message: `${e.message} Value ${show(e.assignment.value)} (the value of ${why}).` };
  }
  if (exp.defaultValue === undefined) return e;
  return { ...e, value: exp.defaultValue, valueSource: 'default', message: `${e.message} Value ${show(exp.defaultValue)}: the default value of "${exp.key}", for units not in it.` };
}

function explainAssignment(c: CompiledSnapshot, unitId: string, attributes: Attributes, experimentKey: string): Explanation {
  const exp = c.byKey.get(experimentKey);
  const unit = JSON.stringify(unitId);
  if (exp === undefined) {
    return {
      experiment: experimentKey,
      layer: null,
      outcome: 'unknown_experiment',
      assignment: null,
      message: `Experiment "${experimentKey}" is not in the snapshot (unknown, draft or stopped): no assignment.`,
    };
  }
  const base = { experiment: exp.key, layer: exp.layerKey };

  const f = exp.forced?.get(unitId);
  if (f !== undefined && isActive(c, f.expiresAt)) {
    return {
      ...base,
      outcome: 'forced',
      assignment: f.assignment,
      forcedExpiresAt: f.expiresAtIso,
      message: `Unit ${unit} is forced into variant "${f.assignment.variant}" of "${exp.key}"${f.expiresAtIso ? ` until ${f.expiresAtIso}` : ''}.`,
    };
  }

  const held = exp.layer === null ? null : holdoutOf(exp.layer, unitId);
  if (held !== null) {
    return {
      ...base,
      outcome: 'in_holdout',
      assignment: null,
      holdout: held.key,
      message: `Unit ${unit} is in holdout "${held.key}" (${+(held.share * 100).toFixed(2)} % of units), which covers layer "${exp.layerKey}": no assignment in "${exp.key}"; it sees the default.`,
    };
  }

  const failure = findTargetingFailure(exp.rule, attributes, c.regex);
  if (failure !== null) {
    const where = failure.path.length ? `rules[${failure.path.join('].rules[')}]` : 'the root rule';
    const actual = 'actual' in failure ? `; the unit has ${JSON.stringify(failure.actual)}` : '; the unit lacks that attribute or the group matched nothing';
    return {
      ...base,
      outcome: 'targeting_failed',
      assignment: null,
      targeting: failure,
      message: `Unit ${unit} fails the targeting of "${exp.key}" at ${where} (${describeRule(failure.rule)})${actual}.`,
    };
  }

  if (exp.status === 'shipped') {
    if (exp.shipped === null) {
      return { ...base, outcome: 'not_running', assignment: null, message: `"${exp.key}" is shipped without a shipped variant: no assignment.` };
    }
    const u = shipDraw(exp, unitId);
    if (u === null) {
      return {
        ...base,
        outcome: 'shipped',
        assignment: exp.shipped,
        message: `"${exp.key}" is shipped: everyone in targeting gets "${exp.shipped.variant}".`,
      };
    }
    const share = `${+(exp.shipShare * 100).toFixed(2)} %`;
    if (u < exp.shipShare) {
      return {
        ...base,
        outcome: 'shipped',
        assignment: exp.shipped,
        u,
        shipShare: exp.shipShare,
        message: `"${exp.key}" is shipped to ${share} of targeted units: unit ${unit} has ship draw u=${u.toFixed(4)} < ${exp.shipShare} and gets "${exp.shipped.variant}".`,
      };
    }
    return {
      ...base,
      outcome: 'outside_ship_share',
      assignment: null,
      u,
      shipShare: exp.shipShare,
      message: `"${exp.key}" is shipped to ${share} of targeted units: unit ${unit} has ship draw u=${u.toFixed(4)} ≥ ${exp.shipShare}, so no assignment yet; it sees the default.`,
    };
  }

  const layer = exp.layer;
  if (layer === null || exp.variantKeys.length === 0) {
    return {
      ...base,
      outcome: 'not_running',
      assignment: null,
      message: layer === null ? `Layer "${exp.layerKey}" of "${exp.key}" is not in the snapshot: no assignment.` : `"${exp.key}" has no variants: no assignment.`,
    };
  }

  const bucket = hashWithPrefix(layer.prefix, unitId) % BUCKETS;
  const slot = layer.table[bucket];
  if (slot === FREE_BUCKET) {
    return {
      ...base,
      outcome: 'bucket_not_held',
      assignment: null,
      bucket,
      message: `Unit ${unit} is in bucket ${bucket} of layer "${layer.key}", which no running experiment holds: outside the traffic of "${exp.key}".`,
    };
  }
  if (slot !== exp.slot) {
    const other = layer.running[slot].key;
    return {
      ...base,
      outcome: 'bucket_held_by_other',
      assignment: null,
      bucket,
      heldBy: other,
      message: `Unit ${unit} is in bucket ${bucket} of layer "${layer.key}", held by experiment "${other}", not "${exp.key}".`,
    };
  }
  if (forcedElsewhere(c, layer, exp.slot, unitId)) {
    return {
      ...base,
      outcome: 'forced_elsewhere',
      assignment: null,
      bucket,
      message: `Unit ${unit} is forced into another running experiment of layer "${layer.key}", which takes its slot there.`,
    };
  }
  const u = variantDraw(exp, unitId);
  const assignment = exp.bucketed[pickVariant(exp.cumulative, u)];
  return {
    ...base,
    outcome: 'bucketed',
    assignment,
    bucket,
    u,
    cumulative: [...exp.cumulative],
    message: `Unit ${unit} is in bucket ${bucket} of layer "${layer.key}", held by "${exp.key}"; variant draw u=${u.toFixed(4)} → "${assignment.variant}".`,
  };
}
