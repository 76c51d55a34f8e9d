export type { ArmStats, CovariateArmStats, RatioArmStats, Estimate, EstimateParams, AlphaOptions } from './types';
export { mean, sampleVariance, varianceOfMean } from './arm';
export { welchTTest, welchDf } from './welch';
export { relativeLiftDelta } from './relative-lift';
export { twoProportionZTest } from './proportions';
export { ratioMetric, ratioArmMoments, ratioContrastMoments, type RatioMetricOptions } from './ratio-metric';
export { ratioConfidenceSequence, ratioMsprt } from './ratio-sequential';
export type { Moments } from './comparison-moments';
export { cupedAdjust, type CupedResult } from './cuped';
export {
  sequentialConfidenceSequence,
  confidenceSequenceFromMoments,
  optimalRhoSquared,
  csMultiplier,
  csPValue,
  DEFAULT_PLANNED_SAMPLE_SIZE,
  type ConfidenceSequenceOptions,
} from './confidence-sequence';
export { msprt, msprtFromMoments, defaultTau2, msprtHalfWidth, type MsprtOptions } from './msprt';
export { intervalAt } from './interval';
export { srmTest, SRM_THRESHOLD, type SrmResult } from './srm';
export { benjaminiHochberg, bonferroni, eBenjaminiHochberg, type CorrectionResult } from './multiple-comparisons';
export { sampleSizeFixed, sampleSizeSequential, type SampleSizeOptions, type SampleSizeResult } from './power';
export { winsorize, capThresholds, capValue, percentile, type CapThresholds } from './winsorize';
export { createRng, mulberry32, type Rng } from './random';
export {
  analyzeComparison,
  resultsTable,
  ESTIMATE_FAMILIES,
  type AnalysisOptions,
  type ComparisonResult,
  type CorrectionMethod,
  type CupedSummary,
  type EstimateFamily,
  type MetricInput,
  type MetricKind,
  type PreviousPValues,
  type RatioMetricInput,
  type RatioVariantInput,
  type ResultsTable,
  type VariantInput,
} from './results-table';
export { DEFAULT_ALPHA } from './estimate';
export { StatsInputError } from './input-error';
export {
  advanceSequentialState,
  applySequentialState,
  describeKeyChange,
  monotoneSeries,
  sequentialObservation,
  sequentialStateKey,
  type DailyRead,
  type MonotoneDay,
  type SequentialObservation,
  type SequentialState,
  type SequentialStateKeyInput,
} from './sequential-state';
export { logGamma } from './log-gamma';
export {
  advanceSrmState,
  sequentialSrmTest,
  srmLogEValue,
  DEFAULT_SRM_CONCENTRATION,
  type SequentialSrmOptions,
  type SrmState,
} from './srm-sequential';
export { combineMoments, momentsOfValues, armFromCentred, varianceProblem, type CentredMoments } from './arm';
export { absoluteMoments, relativeMoments, logRatioMoments } from './comparison-moments';
export { proportionMoments, proportionLogRatioMoments, proportionRelativeMoments, flooredDifferenceVariance } from './proportion-moments';
export { relativeEstimate, fromLogScale, type RelativeIntervalMethod } from './relative-scale';
export { zFromMoments } from './relative-lift';
export { DEFAULT_MINIMUMS, insufficientSample, applyMinimum, type SampleMinimums } from './minimums';
export {
  effectVerdict,
  guardrailVerdict,
  type EffectVerdict,
  type GuardrailVerdict,
  type MetricDirectionInput,
  type SequentialPair,
} from './decision';
export { DEFAULT_WINSORIZATION, winsorizationFor, type WinsorizationSetting } from './winsorize';
export type { TwoProportionOptions } from './proportions';
export {
  groupEffect,
  noveltyTrend,
  segmentHeterogeneity,
  holm,
  postStratify,
  mergeSmallStrata,
  minDurationCheck,
  DEFAULT_MIN_DURATION_DAYS,
  type CohortEffect,
  type DurationCheck,
  type GroupEffect,
  type HeterogeneityResult,
  type NoveltyResult,
  type PostStratified,
  type SegmentDeviation,
  type SegmentEffect,
  type Stratum,
} from './seasonality';
export { interactionTest, interactionFdr, type InteractionCell, type InteractionContrast, type InteractionCorrection, type InteractionInput, type InteractionResult } from './interaction';
