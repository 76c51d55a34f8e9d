import { BUCKETS_PER_LAYER, SHIP_DEFAULT_ARM, shipExposureKey, SHIP_WINNER_ARM } from '@strata/contracts';
import { IsNull, Not, type EntityManager } from 'typeorm';
import { NotFoundException } from '../../common/errors/app.exception';
import { ExperimentEntity } from '../experiment/experiment.entity';
import { loadAnalysisDefinitions, type AnalysisDefinition } from '../result/analysis-definition';

/**
 * A staged ship as the analysis engine sees it: an "experiment" keyed `ship:<key>` whose control is
 * the default arm (targeted units above the ship share) and whose one treatment is the winner arm
 * (below it), with the experiment's metrics and guardrails, analysed from the ship on. Both arms
 * come from the same ship draw over the same targeted units, so the sequential harm test between
 * them is valid; the weights move with the share, so the split is no fixed ratio and SRM is not
 * judged (docs/rollouts.md, "Ship as a rollout"). Exposures: assignment and the SDKs.
 */
export function shipDefinition(def: AnalysisDefinition, e: ExperimentEntity): AnalysisDefinition {
  const share = (e.shipBuckets ?? BUCKETS_PER_LAYER) / BUCKETS_PER_LAYER;
  return {
    ...def,
    key: shipExposureKey(e.key),
    status: 'running',
    variants: [
      { key: SHIP_DEFAULT_ARM, name: 'Default (not shipped to yet)', weight: 1 - share },
      { key: SHIP_WINNER_ARM, name: `Shipped winner (${e.shippedVariant ?? '?'})`, weight: share },
    ],
    startedAt: e.stoppedAt,
    stoppedAt: null,
    plannedSampleSize: null,
    minDurationDays: null,
    autoStop: false,
    alerts: [],
  };
}

/** Every staged ship's definition (the engine's tick): shipped experiments with a ship share. */
export async function loadShipDefinitions(manager: EntityManager): Promise<AnalysisDefinition[]> {
  const staged = await manager.find(ExperimentEntity, { where: { status: 'shipped', shipBuckets: Not(IsNull()) }, order: { key: 'ASC' } });
  if (staged.length === 0) return [];
  const defs = await loadAnalysisDefinitions(manager, staged);
  return defs.map((d, i) => shipDefinition(d, staged[i]));
}

/** One staged ship's definition; 404 when the experiment is no staged ship. */
export async function loadShipDefinition(manager: EntityManager, key: string): Promise<AnalysisDefinition> {
  const e = await manager.findOne(ExperimentEntity, { where: { key, status: 'shipped', shipBuckets: Not(IsNull()) } });
  if (!e) throw new NotFoundException('staged ship', key);
  const [def] = await loadAnalysisDefinitions(manager, [e]);
  return shipDefinition(def, e);
}
