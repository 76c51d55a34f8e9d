import type { Attributes } from '@strata/contracts';
import type { CompiledExperiment, CompiledSnapshot } from './compile';
import { holdoutOf, inShipShare, isActive } from './evaluate';

/** The arm of a staged ship's comparison a unit belongs to (SHIP_WINNER_ARM / SHIP_DEFAULT_ARM in @strata/contracts). */
export type ShipArm = 'winner' | 'default';

export interface ShipExposure {
  readonly experiment: CompiledExperiment;
  /** `ship:<key>`. */
  readonly exposureKey: string;
  readonly arm: ShipArm;
}

export function shipArm(exp: CompiledExperiment, unitId: string): ShipArm {
  return inShipShare(exp, unitId) ? 'winner' : 'default';
}

/**
 * The staged-ship exposures of one evaluation: for every staged ship evaluated (each of the
 * snapshot's, or those named in `experimentKeys`) that the unit is a candidate for — in targeting,
 * in no holdout of its layer, not forced — the unit's arm: `winner` (ship draw below the share)
 * or `default`. The condition does not depend on the ship draw, so both arms are samples of the
 * same randomization and a harm test between them is valid. Empty (and allocation-free) for a
 * snapshot without staged ships. Not on the assign hot path: only when exposures are logged.
 */
export function shipExposures(compiled: CompiledSnapshot, unitId: string, attributes: Attributes, experimentKeys?: readonly string[]): ShipExposure[] {
  const staged = compiled.stagedShips;
  if (staged.length === 0) return [];
  const out: ShipExposure[] = [];
  for (const exp of staged) {
    if (experimentKeys !== undefined && !experimentKeys.includes(exp.key)) continue;
    const f = exp.forced?.get(unitId);
    if (f !== undefined && isActive(compiled, f.expiresAt)) continue;
    if (exp.layer !== null && holdoutOf(exp.layer, unitId) !== null) continue;
    if (!exp.targeting(attributes)) continue;
    out.push({ experiment: exp, exposureKey: exp.shipExposureKey, arm: shipArm(exp, unitId) });
  }
  return out;
}
