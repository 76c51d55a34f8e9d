import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { AuditQuery, ListExperimentsQuery, ListMetricsQuery, ListQuery, ResultsQueryParams } from '@strata/contracts';
import { ApiError } from '../api/client';
import { useApi } from './session';

/** Missing endpoints or experiments without data answer 404: not worth retrying. */
function retryUnless404(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError && (error.status === 404 || error.status === 401 || error.status === 403 || error.status === 400))
    return false;
  return failureCount < 2;
}

export function useExperiments(q: ListExperimentsQuery) {
  const api = useApi();
  return useQuery({ queryKey: ['experiments', q], queryFn: () => api.experiments.list(q), placeholderData: keepPreviousData });
}

export function useExperiment(key: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ['experiment', key],
    queryFn: () => api.experiments.get(key as string),
    enabled: !!key,
    retry: retryUnless404,
  });
}

/** The experiment's rollout plan (null: none), refreshed as the engine moves it; shared by the timeline and the header. */
export function useRollout(key: string, enabled = true) {
  const api = useApi();
  return useQuery({ queryKey: ['rollout', key], queryFn: () => api.rollouts.get(key), retry: false, refetchInterval: 10_000, enabled });
}

export function useLayers(q: ListQuery = { limit: 500 }) {
  const api = useApi();
  return useQuery({ queryKey: ['layers', q], queryFn: () => api.layers.list(q) });
}

export function useLayer(key: string | undefined) {
  const api = useApi();
  return useQuery({ queryKey: ['layer', key], queryFn: () => api.layers.get(key as string), enabled: !!key, retry: retryUnless404 });
}

export function useLedger(key: string | undefined, q: ListQuery) {
  const api = useApi();
  return useQuery({
    queryKey: ['ledger', key, q],
    queryFn: () => api.layers.ledger(key as string, q),
    enabled: !!key,
    placeholderData: keepPreviousData,
  });
}

/** Active metrics by default; `archived: 'include'` where an experiment's own (maybe archived) metrics are shown. */
export function useMetrics(q: ListMetricsQuery = { limit: 500 }) {
  const api = useApi();
  return useQuery({ queryKey: ['metrics', q], queryFn: () => api.metrics.list(q) });
}

export function useMetricBaseline(key: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ['metric-baseline', key],
    queryFn: () => api.metrics.baseline(key as string),
    enabled: !!key,
    retry: retryUnless404,
  });
}

export function useApiKeys(q: ListQuery = { limit: 500 }) {
  const api = useApi();
  return useQuery({ queryKey: ['api-keys', q], queryFn: () => api.apiKeys.list(q) });
}

export function useAudit(q: AuditQuery) {
  const api = useApi();
  return useQuery({ queryKey: ['audit', q], queryFn: () => api.audit.list(q), placeholderData: keepPreviousData });
}

/** Results of one experiment; `enabled` lets list rows fetch lazily (only running ones). */
export function useResults(key: string, q: ResultsQueryParams = {}, enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: ['results', key, q],
    queryFn: () => api.experiments.results(key, q),
    enabled,
    retry: retryUnless404,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });
}

/** Summaries of the experiments on one list page, in one request (not one results request per row). */
export function useSummaries(keys: readonly string[]) {
  const api = useApi();
  return useQuery({
    queryKey: ['summaries', keys],
    queryFn: () => api.experiments.summaries(keys),
    enabled: keys.length > 0,
    retry: retryUnless404,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });
}

export function useTimeseries(key: string, enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: ['timeseries', key],
    queryFn: () => api.experiments.timeseries(key),
    enabled,
    retry: retryUnless404,
    staleTime: 30_000,
  });
}

export function useUsers(q: ListQuery = { limit: 500 }) {
  const api = useApi();
  return useQuery({ queryKey: ['users', q], queryFn: () => api.users.list(q) });
}

export function useHoldouts(q: ListQuery = { limit: 500 }) {
  const api = useApi();
  return useQuery({ queryKey: ['holdouts', q], queryFn: () => api.holdouts.list(q) });
}

export function useHoldout(key: string | undefined) {
  const api = useApi();
  return useQuery({ queryKey: ['holdout', key], queryFn: () => api.holdouts.get(key as string), enabled: !!key, retry: retryUnless404 });
}

export function useHoldoutResults(key: string | undefined) {
  const api = useApi();
  return useQuery({ queryKey: ['holdout-results', key], queryFn: () => api.holdouts.results(key as string), enabled: !!key, retry: retryUnless404 });
}

export function useMetric(key: string | undefined) {
  const api = useApi();
  return useQuery({ queryKey: ['metric', key], queryFn: () => api.metrics.get(key as string), enabled: !!key, retry: retryUnless404 });
}

export function useMetricUsage(key: string | undefined) {
  const api = useApi();
  return useQuery({ queryKey: ['metric-usage', key], queryFn: () => api.metrics.usage(key as string), enabled: !!key, retry: retryUnless404 });
}

/** Event-name suggestions for the metric form (names received in the last 7 days); cached a minute. */
export function useEventNameSuggestions(prefix: string) {
  const api = useApi();
  return useQuery({
    queryKey: ['event-names', prefix],
    queryFn: () => api.metrics.eventNames(prefix, 20),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });
}
