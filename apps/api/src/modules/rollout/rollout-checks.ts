import type { RolloutFindingDto } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { EMPTY_SLICE, readStats, type SliceStats } from '../analysis/stats-store';
import { experimentFindings, findings, GUARDRAIL_ALPHA, readSrmState } from '../guardrail/guardrail.service';
import { loadAnalysisDefinition } from '../result/analysis-definition';
import { buildGuardrails, buildSrm } from '../result/results-builder';
import { loadShipDefinition } from './ship-definition';

export interface ExperimentObservation {
  exposedUnits: number;
  findings: RolloutFindingDto[];
}

/**
 * What a rollout step is judged on, from the engine's stored statistics: the units exposed so
 * far and the guardrail findings — the sequential harm test per guardrail × treatment and the
 * anytime-valid SRM test, exactly as the guardrail consumer sees them (it runs first in the
 * tick's consumer chain and folds the SRM state this reads).
 */
export async function observeExperiment(db: DataSource, key: string, slice?: SliceStats): Promise<ExperimentObservation> {
  const def = await loadAnalysisDefinition(db.manager, key);
  const stats = slice ?? (await readStats(db, [key], '')).get(key)?.get('') ?? EMPTY_SLICE;
  let exposedUnits = 0;
  for (const n of stats.units.values()) exposedUnits += n;
  const srm = buildSrm(def, stats.units);
  const state = srm ? await readSrmState(db, key) : null;
  const found = experimentFindings(buildGuardrails(def, stats.aggregates, GUARDRAIL_ALPHA), srm, state);
  return { exposedUnits, findings: found.map((f) => ({ kind: f.kind, message: f.message, details: f.details })) };
}

/**
 * What a staged ship's step is judged on: the units exposed to its comparison (`ship:<key>`, both
 * arms) and the sequential harm test per guardrail of the winner arm against the default arm.
 * No SRM: the split follows the share, which moves at every step (see ship-definition.ts).
 */
export async function observeShip(db: DataSource, key: string, slice?: SliceStats): Promise<ExperimentObservation> {
  const def = await loadShipDefinition(db.manager, key);
  const stats = slice ?? (await readStats(db, [def.key], '')).get(def.key)?.get('') ?? EMPTY_SLICE;
  let exposedUnits = 0;
  for (const n of stats.units.values()) exposedUnits += n;
  const found = findings(buildGuardrails(def, stats.aggregates, GUARDRAIL_ALPHA), null);
  return { exposedUnits, findings: found.map((f) => ({ kind: f.kind, message: f.message, details: f.details })) };
}
