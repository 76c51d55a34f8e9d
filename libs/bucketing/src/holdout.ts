import type { CompiledExperiment, CompiledHoldout, CompiledSnapshot } from './compile';
import { inHoldout } from './evaluate';

/** The arm of a holdout's comparison a unit belongs to. */
export type HoldoutArm = 'holdout' | 'rest';

export interface HoldoutExposure {
  readonly holdout: CompiledHoldout;
  readonly arm: HoldoutArm;
}

export function holdoutArm(h: CompiledHoldout, unitId: string): HoldoutArm {
  return inHoldout(h, unitId) ? 'holdout' : 'rest';
}

/**
 * The holdout exposures of one evaluation: for every holdout covering a layer the evaluation
 * looked at (a layer with an experiment in the snapshot, or the layer of a named experiment),
 * the unit's arm. Both arms are recorded under the same condition, which does not depend on the
 * holdout's hash, so "holdout" and "rest" are comparable samples. Empty (and allocation-free)
 * for a snapshot without holdouts. Not on the assign hot path: only when exposures are logged.
 */
export function holdoutExposures(compiled: CompiledSnapshot, unitId: string, experimentKeys?: readonly string[]): HoldoutExposure[] {
  if (compiled.holdouts.length === 0) return [];
  const touched = new Set<CompiledHoldout>();
  if (experimentKeys !== undefined) {
    for (const k of experimentKeys) for (const h of holdoutsOfExperiment(compiled.byKey.get(k))) touched.add(h);
  } else {
    for (const layer of compiled.layers) if (layer.experiments.length > 0 && layer.holdouts !== null) for (const h of layer.holdouts) touched.add(h);
  }
  // Snapshot order, so the same evaluation always lists its exposures the same way.
  return compiled.holdouts.filter((h) => touched.has(h)).map((holdout) => ({ holdout, arm: holdoutArm(holdout, unitId) }));
}

const NONE: readonly CompiledHoldout[] = Object.freeze([]);

/** The holdouts covering an experiment's layer (none for an unknown experiment or a missing layer). */
export function holdoutsOfExperiment(exp: CompiledExperiment | undefined): readonly CompiledHoldout[] {
  return exp?.layer?.holdouts ?? NONE;
}
