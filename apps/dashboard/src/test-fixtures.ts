import type {
  ExperimentDto,
  ExperimentResultsDto,
  ExperimentSummaryDto,
  InferenceDto,
  LayerDto,
  MetricDto,
  MetricResultDto,
  VariantComparisonDto,
} from '@strata/contracts';

export function experiment(overrides: Partial<ExperimentDto> = {}): ExperimentDto {
  return {
    key: 'checkout',
    name: 'Checkout button',
    hypothesis: '',
    layer: 'homepage',
    status: 'running',
    variants: [
      { key: 'control', name: 'Control', weight: 0.5 },
      { key: 'treatment', name: 'Green button', weight: 0.5 },
    ],
    traffic: 10,
    targeting: null,
    forcedVariants: [],
    primaryMetric: 'purchase',
    secondaryMetrics: [],
    guardrailMetrics: [],
    plannedSampleSize: null,
    minDurationDays: null,
    autoStop: true,
    segmentDimensions: ['country', 'platform', 'day_of_week'],
    salt: 'checkout',
    shippedVariant: null,
    valueType: null,
    defaultValue: null,
    ranges: [{ start: 0, end: 1000 }],
    alerts: [],
    startedAt: '2026-11-01T10:00:00.000Z',
    stoppedAt: null,
    stopReason: null,
    concludedAt: null,
    createdAt: '2026-11-01T09:00:00.000Z',
    updatedAt: '2026-11-01T10:00:00.000Z',
    ...overrides,
  };
}

export function layer(overrides: Partial<LayerDto> = {}): LayerDto {
  return {
    key: 'homepage',
    name: 'Homepage',
    description: '',
    salt: 'homepage',
    buckets: 10000,
    freeBuckets: 9000,
    allocations: [{ experiment: 'checkout', status: 'running', ranges: [{ start: 0, end: 1000 }], buckets: 1000 }],
    createdAt: '2026-11-01T09:00:00.000Z',
    updatedAt: '2026-11-01T09:00:00.000Z',
    ...overrides,
  };
}

export function metric(overrides: Partial<MetricDto> = {}): MetricDto {
  return {
    key: 'purchase',
    name: 'Purchase rate',
    description: '',
    type: 'conversion',
    eventName: 'purchase',
    denominatorEventName: null,
    direction: 'increase',
    winsorizePercentile: null,
    harmThreshold: null,
    attributionWindowHours: null,
    cupedLookbackDays: 14,
    archivedAt: null,
    createdAt: '2026-11-01T09:00:00.000Z',
    updatedAt: '2026-11-01T09:00:00.000Z',
    ...overrides,
  };
}

export function inference(estimate: number, ci: [number, number] | null, significant: boolean, pValue = 0.2): InferenceDto {
  return { method: 'asymptotic-cs', params: {}, estimate, ci, pValue, significant };
}

export function row(variant: string, isControl: boolean, rel: InferenceDto | null, units = 2000, mean = 0.1): VariantComparisonDto {
  return {
    variant,
    isControl,
    units,
    mean,
    sum: units * mean,
    sd: 0.3,
    absolute: null,
    relative: rel ? { fixed: { ...rel, method: 'welch-t' }, sequential: rel } : null,
    msprt: null,
    cuped: null,
    adjustedPValue: rel ? rel.pValue : null,
  };
}

export function metricResult(variants: VariantComparisonDto[], overrides: Partial<MetricResultDto> = {}): MetricResultDto {
  return { metric: 'purchase', name: 'Purchase rate', type: 'conversion', direction: 'increase', role: 'primary', variants, ...overrides };
}

export function results(metrics: MetricResultDto[], overrides: Partial<ExperimentResultsDto> = {}): ExperimentResultsDto {
  return {
    experiment: 'checkout',
    status: 'running',
    computedAt: '2026-11-02T10:00:00.000Z',
    dataThrough: '2026-11-02T09:59:00.000Z',
    alpha: 0.05,
    correction: 'bh',
    sequential: { method: 'asymptotic-cs', params: {} },
    totalUnits: 4000,
    metrics,
    srm: null,
    guardrails: [],
    decision: { hint: 'keep_running', reason: 'Not enough evidence yet.' },
    ...overrides,
  };
}

export function summary(experimentKey: string, overrides: Partial<ExperimentSummaryDto> = {}): ExperimentSummaryDto {
  return {
    experiment: experimentKey,
    status: 'running',
    dataThrough: '2026-11-02T10:00:00.000Z',
    totalUnits: 2000,
    primary: null,
    srm: { flagged: false, pValue: 0.6 },
    guardrails: { ok: 0, harm: 0, insufficientData: 0 },
    decision: 'keep_running',
    ...overrides,
  };
}
