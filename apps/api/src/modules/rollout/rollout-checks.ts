import type { RolloutFindingDto } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { EMPTY_SLICE, readStats, type SliceStats } from '../analysis/stats-store';
import { experimentFindings, readSrmState } from '../guardrail/guardrail.service';
import { loadAnalysisDefinition } from '../result/analysis-definition';
import { buildSrm } from '../result/results-builder';

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
  const found = experimentFindings(def, stats, srm, state);
  return { exposedUnits, findings: found.map((f) => ({ kind: f.kind, message: f.message, details: f.details })) };
}
