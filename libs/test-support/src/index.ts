// Pure fixtures (no I/O beyond reading the vectors file): safe in any test environment.
export { consecutiveRanges, experiment, layer, snapshot } from './snapshot-builder';
export { BUCKETING_VECTORS, HOLDOUT_VECTORS, rawUnitId, SHIP_VECTORS, type BucketingVector, type HoldoutVector, type ShipVector } from './vectors';
