import type {
  ApiKeyDto,
  AuditQuery,
  ListExperimentsQuery,
  ListMetricsQuery,
  ListQuery,
  ResultsQueryParams,
  ApiKeyType,
  CreateRolloutRequest,
  RolloutPlanDto,
  AuditEntryDto,
  BucketLedgerEntryDto,
  CreateExperimentRequest,
  CreateLayerRequest,
  CreateHoldoutRequest,
  CreateMetricRequest,
  EventNameSuggestionsDto,
  CreatedApiKeyDto,
  ExperimentDto,
  ExperimentResultsDto,
  ExperimentSummaryDto,
  ExperimentTimeseriesDto,
  HoldoutDto,
  HoldoutResultsDto,
  LayerDto,
  MetricBaselineDto,
  MetricDto,
  MetricUsageDto,
  Page,
  Role,
  ShipExperimentRequest,
  UpdateExperimentRequest,
  UpdateMetricRequest,
  UserDto,
  WhoAmIDto,
} from '@strata/contracts';
import type { ApiClient } from './client';

const enc = encodeURIComponent;

/** Every `/v1` endpoint the dashboard uses, typed with `@strata/contracts`. */
export function endpoints(api: ApiClient) {
  return {
    apiKeys: {
      list: (q: ListQuery = {}) => api.request<Page<ApiKeyDto>>('GET', '/v1/api-keys', { query: { ...q } }),
      create: (body: { name: string; type: ApiKeyType }) => api.request<CreatedApiKeyDto>('POST', '/v1/api-keys', { body }),
      revoke: (id: string) => api.request<ApiKeyDto>('POST', `/v1/api-keys/${enc(id)}/revoke`),
    },
    layers: {
      list: (q: ListQuery = {}) => api.request<Page<LayerDto>>('GET', '/v1/layers', { query: { ...q } }),
      get: (key: string) => api.request<LayerDto>('GET', `/v1/layers/${enc(key)}`),
      create: (body: CreateLayerRequest) => api.request<LayerDto>('POST', '/v1/layers', { body }),
      remove: (key: string) => api.request<void>('DELETE', `/v1/layers/${enc(key)}`),
      ledger: (key: string, q: ListQuery = {}) =>
        api.request<Page<BucketLedgerEntryDto>>('GET', `/v1/layers/${enc(key)}/ledger`, { query: { ...q } }),
    },
    metrics: {
      /** Active metrics unless `archived` says `include` or `only`. */
      list: (q: ListMetricsQuery = {}) => api.request<Page<MetricDto>>('GET', '/v1/metrics', { query: { ...q } }),
      get: (key: string) => api.request<MetricDto>('GET', `/v1/metrics/${enc(key)}`),
      create: (body: CreateMetricRequest) => api.request<MetricDto>('POST', '/v1/metrics', { body }),
      update: (key: string, body: UpdateMetricRequest) => api.request<MetricDto>('PATCH', `/v1/metrics/${enc(key)}`, { body }),
      remove: (key: string) => api.request<void>('DELETE', `/v1/metrics/${enc(key)}`),
      archive: (key: string) => api.request<MetricDto>('POST', `/v1/metrics/${enc(key)}/archive`),
      unarchive: (key: string) => api.request<MetricDto>('POST', `/v1/metrics/${enc(key)}/unarchive`),
      /** Experiments using the metric as primary, secondary or guardrail metric. */
      usage: (key: string) => api.request<MetricUsageDto>('GET', `/v1/metrics/${enc(key)}/usage`),
      /** Metric-event names received in the last 7 days, most frequent first. */
      eventNames: (prefix = '', limit = 20) => api.request<EventNameSuggestionsDto>('GET', '/v1/metrics/event-names', { query: { prefix, limit } }),
      /** Observed baseline for the power calculator; `observed: null` (not a 404) when no experiment has data. */
      baseline: (key: string) => api.request<MetricBaselineDto>('GET', `/v1/metrics/${enc(key)}/baseline`),
    },
    experiments: {
      list: (q: ListExperimentsQuery = {}) => api.request<Page<ExperimentDto>>('GET', '/v1/experiments', { query: { ...q } }),
      get: (key: string) => api.request<ExperimentDto>('GET', `/v1/experiments/${enc(key)}`),
      create: (body: CreateExperimentRequest) => api.request<ExperimentDto>('POST', '/v1/experiments', { body }),
      update: (key: string, body: UpdateExperimentRequest) => api.request<ExperimentDto>('PATCH', `/v1/experiments/${enc(key)}`, { body }),
      remove: (key: string) => api.request<void>('DELETE', `/v1/experiments/${enc(key)}`),
      start: (key: string) => api.request<ExperimentDto>('POST', `/v1/experiments/${enc(key)}/start`),
      ramp: (key: string, traffic: number) => api.request<ExperimentDto>('POST', `/v1/experiments/${enc(key)}/ramp`, { body: { traffic } }),
      stop: (key: string, reason?: string) =>
        api.request<ExperimentDto>('POST', `/v1/experiments/${enc(key)}/stop`, { body: reason ? { reason } : {} }),
      /** `{ variant }` ships to everyone in targeting; with `rollout`, in stages by a `ship` plan (docs/rollouts.md). */
      ship: (key: string, body: ShipExperimentRequest) => api.request<ExperimentDto>('POST', `/v1/experiments/${enc(key)}/ship`, { body }),
      conclude: (key: string) => api.request<ExperimentDto>('POST', `/v1/experiments/${enc(key)}/conclude`),
      results: (key: string, q: ResultsQueryParams = {}) =>
        api.request<ExperimentResultsDto>('GET', `/v1/experiments/${enc(key)}/results`, { query: { ...q } }),
      /** One summary per key, read from the analysis engine's stored state: the list page's one request for all its rows. */
      summaries: (keys: readonly string[]) =>
        api.request<ExperimentSummaryDto[]>('GET', '/v1/experiments/summaries', { query: { keys: keys.join(',') } }),
      timeseries: (key: string) => api.request<ExperimentTimeseriesDto>('GET', `/v1/experiments/${enc(key)}/results/timeseries`),
      exportResults: (key: string, format: 'csv' | 'json') => api.download(`/v1/experiments/${enc(key)}/export`, { format }),
      exportUnits: (key: string) => api.download(`/v1/experiments/${enc(key)}/export/units`, { format: 'csv' }),
    },
    rollouts: {
      /** The plan, or undefined (204) when the experiment has none: no failed request on every experiment page. */
      get: async (key: string): Promise<RolloutPlanDto | null> =>
        (await api.request<RolloutPlanDto | undefined>('GET', `/v1/experiments/${enc(key)}/rollout?ifPresent=true`)) ?? null,
      create: (key: string, body: CreateRolloutRequest) => api.request<RolloutPlanDto>('POST', `/v1/experiments/${enc(key)}/rollout`, { body }),
      command: (key: string, command: 'pause' | 'resume' | 'advance' | 'revert', body: { reason?: string; to?: 'last_safe' | 'zero' } = {}) =>
        api.request<RolloutPlanDto>('POST', `/v1/experiments/${enc(key)}/rollout/${command}`, { body }),
    },
    holdouts: {
      list: (q: ListQuery = {}) => api.request<Page<HoldoutDto>>('GET', '/v1/holdouts', { query: { ...q } }),
      get: (key: string) => api.request<HoldoutDto>('GET', `/v1/holdouts/${enc(key)}`),
      create: (body: CreateHoldoutRequest) => api.request<HoldoutDto>('POST', '/v1/holdouts', { body }),
      remove: (key: string) => api.request<void>('DELETE', `/v1/holdouts/${enc(key)}`),
      results: (key: string) => api.request<HoldoutResultsDto>('GET', `/v1/holdouts/${enc(key)}/results`),
    },
    audit: {
      list: (q: AuditQuery = {}) => api.request<Page<AuditEntryDto>>('GET', '/v1/audit', { query: { ...q } }),
    },
    auth: {
      me: () => api.request<WhoAmIDto>('GET', '/v1/auth/me'),
      logout: () => api.request<void>('POST', '/v1/auth/logout'),
    },
    users: {
      list: (q: ListQuery = {}) => api.request<Page<UserDto>>('GET', '/v1/users', { query: { ...q } }),
      create: (body: { email: string; role: Role; password: string }) => api.request<UserDto>('POST', '/v1/users', { body }),
      update: (id: string, body: { role?: Role; disabled?: boolean }) => api.request<UserDto>('PATCH', `/v1/users/${enc(id)}`, { body }),
    },
  };
}

export type Endpoints = ReturnType<typeof endpoints>;
