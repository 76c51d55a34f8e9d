import { DEFAULT_SEGMENT_DIMENSIONS, type BucketRange, type ExperimentDto } from '@strata/contracts';
import type { ExperimentEntity } from './experiment.entity';

export function toExperimentDto(e: ExperimentEntity, ranges: BucketRange[]): ExperimentDto {
  const dto: ExperimentDto = {
    key: e.key,
    name: e.name,
    hypothesis: e.hypothesis,
    layer: e.layerKey,
    status: e.status,
    variants: e.variants,
    traffic: e.trafficBuckets / 100,
    targeting: e.targeting,
    forcedVariants: e.forcedVariants,
    primaryMetric: e.primaryMetric,
    secondaryMetrics: e.secondaryMetrics,
    guardrailMetrics: e.guardrailMetrics,
    plannedSampleSize: e.plannedSampleSize,
    minDurationDays: e.minDurationDays ?? null,
    autoStop: e.autoStop,
    segmentDimensions: e.segmentDimensions ?? DEFAULT_SEGMENT_DIMENSIONS,
    salt: e.salt,
    shippedVariant: e.shippedVariant,
    valueType: e.valueType ?? null,
    defaultValue: e.defaultValue ?? null,
    ranges,
    alerts: e.alerts,
    startedAt: e.startedAt?.toISOString() ?? null,
    stoppedAt: e.stoppedAt?.toISOString() ?? null,
    stopReason: e.stopReason,
    concludedAt: e.concludedAt?.toISOString() ?? null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
  // Only a staged ship carries it, so every other experiment reads as before.
  if (e.status === 'shipped' && e.shipBuckets !== null) dto.shipTraffic = e.shipBuckets / 100;
  return dto;
}

/** Traffic percent (0–100, step 0.01) as a whole number of the layer's 10,000 buckets. */
export function trafficToBuckets(traffic: number): number {
  return Math.round(traffic * 100);
}
