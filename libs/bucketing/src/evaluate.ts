import type { Assignment, Attributes, VariantValue } from '@strata/contracts';
import { BUCKETS, type CompiledExperiment, type CompiledHoldout, type CompiledLayer, type CompiledSnapshot } from './compile';
import { encodeUnit, hashEncoded, hashWithPrefix } from './murmur3';

/**
 * Hot path. Everything in this file runs per unit per request (API) or per getVariant (SDK):
 * no allocation beyond the result array, no I/O, no clock read unless a forced variant with an
 * expiry matches, at most two hashes per layer (plus one per holdout, once per call in `evaluate`, and one per staged ship). Assignment objects are frozen and shared.
 * The unit id is UTF-8-encoded once per call (`encodeUnit`) and every hash reads those bytes.
 */

const NO_ATTRIBUTES: Attributes = Object.freeze({});
const TWO_TO_32 = 4294967296;

/** The layer slot of a unit: MurmurHash3(`${layer.salt}:${unitId}`) mod BUCKETS. */
export function layerBucket(layer: CompiledLayer, unitId: string): number {
  return hashWithPrefix(layer.prefix, unitId) % BUCKETS;
}

/** The variant draw u ∈ [0, 1): MurmurHash3(`${experiment.salt}:${unitId}`) / 2^32 (`prefix`: the hash state after `${salt}:`). */
export function variantDraw(exp: Pick<CompiledExperiment, 'prefix'>, unitId: string): number {
  return hashWithPrefix(exp.prefix, unitId) / TWO_TO_32;
}

/** Index of the variant for draw u: the first i with u < cumulative[i]; the last absorbs rounding. */
export function pickVariant(cumulative: Float64Array, u: number): number {
  const last = cumulative.length - 1;
  for (let i = 0; i < last; i++) if (u < cumulative[i]) return i;
  return last;
}

/**
 * Whether a shipped experiment gives the unit its winner, by the ship draw alone (targeting aside):
 * always for a full ship; for a staged one MurmurHash3(`${salt}:ship:${unitId}`) / 2^32 < shipShare,
 * so raising the share only adds units (monotone, like a ramp).
 */
export function inShipShare(exp: CompiledExperiment, unitId: string): boolean {
  return exp.shipPrefix === null || hashWithPrefix(exp.shipPrefix, unitId) / TWO_TO_32 < exp.shipShare;
}

/** The ship draw u ∈ [0, 1) of a staged ship (MurmurHash3(`${salt}:ship:${unitId}`) / 2^32); null for a full ship. */
export function shipDraw(exp: CompiledExperiment, unitId: string): number | null {
  return exp.shipPrefix === null ? null : hashWithPrefix(exp.shipPrefix, unitId) / TWO_TO_32;
}

/** The shipped assignment of a unit in targeting whose id is encoded (`len` bytes, or -1: not yet). */
function shippedTo(exp: CompiledExperiment, unitId: string, len: number): Assignment | null {
  if (exp.shipPrefix === null) return exp.shipped;
  const n = len < 0 ? encodeUnit(unitId) : len;
  return hashEncoded(exp.shipPrefix, n) / TWO_TO_32 < exp.shipShare ? exp.shipped : null;
}

/** Whether the unit is held out by `h`: MurmurHash3(`${h.salt}:${unitId}`) / 2^32 < h.share. */
export function inHoldout(h: CompiledHoldout, unitId: string): boolean {
  return hashWithPrefix(h.prefix, unitId) / TWO_TO_32 < h.share;
}

/** The first of `holdouts` holding the encoded unit out, or null. One hash per holdout. */
function holdingOut(holdouts: readonly CompiledHoldout[], len: number): CompiledHoldout | null {
  for (let i = 0; i < holdouts.length; i++) if (hashEncoded(holdouts[i].prefix, len) / TWO_TO_32 < holdouts[i].share) return holdouts[i];
  return null;
}

/** Like holdingOut, remembering each holdout's answer for this call in `memo` (reset per unit by `evaluate`). */
function heldOutMemo(memo: Int8Array, holdouts: readonly CompiledHoldout[], len: number): boolean {
  for (let i = 0; i < holdouts.length; i++) {
    const h = holdouts[i];
    let m = memo[h.index];
    if (m < 0) memo[h.index] = m = hashEncoded(h.prefix, len) / TWO_TO_32 < h.share ? 1 : 0;
    if (m === 1) return true;
  }
  return false;
}

/** The holdout keeping the unit out of `layer`, or null (no holdout covers the layer, or the unit is in none). */
export function holdoutOf(layer: CompiledLayer, unitId: string): CompiledHoldout | null {
  const hs = layer.holdouts;
  if (hs === null) return null;
  for (let i = 0; i < hs.length; i++) if (inHoldout(hs[i], unitId)) return hs[i];
  return null;
}

export function isActive(c: CompiledSnapshot, expiresAt: number): boolean {
  return expiresAt === Infinity || expiresAt > c.clock();
}

/** Whether the unit is forced into another running experiment of the layer (which takes its slot). */
export function forcedElsewhere(c: CompiledSnapshot, layer: CompiledLayer, slot: number, unitId: string): boolean {
  if (layer.forcedUnits === null) return false;
  const claims = layer.forcedUnits.get(unitId);
  if (claims === undefined) return false;
  for (let i = 0; i < claims.length; i++) {
    if (claims[i].slot !== slot && isActive(c, claims[i].expiresAt)) return true;
  }
  return false;
}

/** The variant of a unit whose id is encoded (`len` bytes in the scratch buffer). */
function bucketedVariant(exp: CompiledExperiment, len: number): Assignment | null {
  if (exp.bucketed.length === 0) return null;
  return exp.bucketed[pickVariant(exp.cumulative, hashEncoded(exp.prefix, len) / TWO_TO_32)];
}

/**
 * One experiment for one unit. `bucket` is the unit's bucket in the experiment's layer when the
 * caller already has it, or -1; `len` is the encoded id's byte length when the caller already
 * encoded it, or -1. The result equals the spec order forced → holdout → targeting → bucket →
 * variant; the bucket is tested before targeting only because it is cheaper and both must pass.
 * A held-out unit gets nothing in the layer, not even a shipped winner: it sees the defaults.
 */
function decide(c: CompiledSnapshot, exp: CompiledExperiment, unitId: string, attributes: Attributes, bucket: number, len: number): Assignment | null {
  if (exp.forced !== null) {
    const f = exp.forced.get(unitId);
    if (f !== undefined && isActive(c, f.expiresAt)) return f.assignment;
  }
  const layer = exp.layer;
  if (layer !== null && layer.holdouts !== null) {
    if (len < 0) len = encodeUnit(unitId);
    if (holdingOut(layer.holdouts, len) !== null) return null;
  }
  if (exp.status === 'shipped') return exp.shipped !== null && exp.targeting(attributes) ? shippedTo(exp, unitId, len) : null;
  if (layer === null || exp.slot < 0) return null;
  if (len < 0) len = encodeUnit(unitId);
  const b = bucket >= 0 ? bucket : hashEncoded(layer.prefix, len) % BUCKETS;
  if (layer.table[b] !== exp.slot) return null;
  if (!exp.targeting(attributes)) return null;
  if (forcedElsewhere(c, layer, exp.slot, unitId)) return null;
  return bucketedVariant(exp, len);
}

/**
 * The unit's assignment in one experiment, or null (unknown key, not targeted, not in traffic).
 * O(1): one map lookup, at most two hashes. This is what an SDK's getVariant calls.
 */
export function evaluateExperiment(
  compiled: CompiledSnapshot,
  experimentKey: string,
  unitId: string,
  attributes: Attributes = NO_ATTRIBUTES,
): Assignment | null {
  const exp = compiled.byKey.get(experimentKey);
  return exp === undefined ? null : decide(compiled, exp, unitId, attributes, -1, -1);
}

/**
 * Every assignment of a unit, in layer order then snapshot order, or only those of
 * `experimentKeys` when given. One layer hash per layer with running experiments, plus one
 * variant hash per layer where the unit lands in an experiment.
 */
export function evaluate(
  compiled: CompiledSnapshot,
  unitId: string,
  attributes: Attributes = NO_ATTRIBUTES,
  experimentKeys?: readonly string[],
): Assignment[] {
  const out: Assignment[] = [];
  if (experimentKeys !== undefined) {
    for (let i = 0; i < experimentKeys.length; i++) {
      const a = evaluateExperiment(compiled, experimentKeys[i], unitId, attributes);
      if (a !== null) out.push(a);
    }
    return out;
  }
  const len = encodeUnit(unitId);
  const layers = compiled.layers;
  const memo = compiled.holdoutMemo;
  if (memo.length > 0) memo.fill(-1);
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    // Held out and no forced variant to honour: nothing in this layer (decide checks it otherwise).
    // Each holdout is hashed at most once per call, however many layers it covers.
    if (layer.holdouts !== null && layer.simple && heldOutMemo(memo, layer.holdouts, len)) continue;
    const bucket = layer.running.length > 0 ? hashEncoded(layer.prefix, len) % BUCKETS : -1;
    if (layer.simple) {
      // No shipped experiment and no forced variant in this layer: only the bucket's holder can apply.
      if (bucket < 0) continue;
      const slot = layer.table[bucket];
      if (slot < 0) continue;
      const exp = layer.running[slot];
      if (!exp.targeting(attributes)) continue;
      const a = bucketedVariant(exp, len);
      if (a !== null) out.push(a);
      continue;
    }
    const exps = layer.experiments;
    for (let j = 0; j < exps.length; j++) {
      const a = decide(compiled, exps[j], unitId, attributes, bucket, len);
      if (a !== null) out.push(a);
    }
  }
  const orphans = compiled.orphans;
  for (let i = 0; i < orphans.length; i++) {
    const a = decide(compiled, orphans[i], unitId, attributes, -1, len);
    if (a !== null) out.push(a);
  }
  return out;
}

/**
 * The default values for an assignment reply: each experiment with values that was evaluated
 * (every one of the snapshot's, or those named in `experimentKeys`) and is not in `assignments`.
 * Undefined when there is none — always so for a snapshot without values, at the cost of one
 * length check.
 */
export function defaultsFor(
  compiled: CompiledSnapshot,
  assignments: readonly Assignment[],
  experimentKeys?: readonly string[],
): Record<string, VariantValue> | undefined {
  const valued = compiled.valued;
  if (valued.length === 0) return undefined;
  let out: Record<string, VariantValue> | undefined;
  const consider = (exp: CompiledExperiment): void => {
    if (exp.defaultValue === undefined) return;
    for (let i = 0; i < assignments.length; i++) if (assignments[i].experiment === exp.key) return;
    out ??= {};
    out[exp.key] = exp.defaultValue;
  };
  if (experimentKeys !== undefined) {
    for (let i = 0; i < experimentKeys.length; i++) {
      const exp = compiled.byKey.get(experimentKeys[i]);
      if (exp !== undefined) consider(exp);
    }
  } else {
    for (let i = 0; i < valued.length; i++) consider(valued[i]);
  }
  return out;
}
