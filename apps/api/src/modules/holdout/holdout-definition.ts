import { DEFAULT_SEGMENT_DIMENSIONS, HOLDOUT_ARM, holdoutExposureKey, REST_ARM, type HoldoutDto } from '@strata/contracts';
import type { EntityManager } from 'typeorm';
import type { MetricEntity } from '../metric/metric.entity';
import { analysisMetric, loadMetrics, type AnalysisDefinition, type AnalysisMetric } from '../result/analysis-definition';
import { HoldoutEntity } from './holdout.entity';

export function toHoldoutDto(h: HoldoutEntity): HoldoutDto {
  return {
    key: h.key,
    name: h.name,
    description: h.description,
    salt: h.salt,
    share: h.share,
    layers: h.layerKeys,
    metrics: h.metricKeys,
    createdAt: h.createdAt.toISOString(),
    updatedAt: h.updatedAt.toISOString(),
  };
}

/**
 * A holdout as the analysis engine sees it: an "experiment" keyed `holdout:<key>` whose control
 * is the held-out arm and whose one treatment is everyone else exposed in the covered layers, so
 * the engine keeps its statistics incrementally like any experiment's (the exposures are recorded
 * by assignment and the SDKs, see docs/holdouts.md). It never stops: analysed while it exists.
 */
export function holdoutDefinition(h: HoldoutEntity, metrics: ReadonlyMap<string, MetricEntity>): AnalysisDefinition {
  const list: AnalysisMetric[] = [];
  h.metricKeys.forEach((key, i) => {
    const m = metrics.get(key);
    if (m) list.push(analysisMetric(m, i === 0 ? 'primary' : 'secondary', false));
  });
  return {
    key: holdoutExposureKey(h.key),
    status: 'running',
    variants: [
      { key: HOLDOUT_ARM, name: 'Holdout', weight: h.share },
      { key: REST_ARM, name: 'Everyone else', weight: 1 - h.share },
    ],
    startedAt: h.createdAt,
    stoppedAt: null,
    plannedSampleSize: null,
    minDurationDays: null,
    autoStop: false,
    alerts: [],
    metrics: list,
    segmentDimensions: DEFAULT_SEGMENT_DIMENSIONS,
  };
}

/** Every holdout's definition in two queries (the engine's tick). */
export async function loadHoldoutDefinitions(manager: EntityManager): Promise<AnalysisDefinition[]> {
  const holdouts = await manager.find(HoldoutEntity, { order: { key: 'ASC' } });
  if (holdouts.length === 0) return [];
  const byKey = await loadMetrics(manager, [...new Set(holdouts.flatMap((h) => h.metricKeys))]);
  return holdouts.map((h) => holdoutDefinition(h, byKey));
}
