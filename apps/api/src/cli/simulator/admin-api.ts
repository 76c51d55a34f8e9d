import type { CreatedApiKeyDto, ExperimentResultsDto, MetricDto } from '@strata/contracts';

/** The experiment fields the simulator reads (a subset of ExperimentDto). */
export interface SimExperimentInfo {
  key: string;
  status: string;
  startedAt: string | null;
  traffic: number;
  targeting: unknown;
  variants: { key: string; weight: number }[];
  primaryMetric: string | null;
  secondaryMetrics: string[];
  guardrailMetrics: string[];
}

export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The few admin calls the simulator and the demo seeding make, over plain HTTP (they drive a
 * running API exactly as a user would).
 */
export class AdminApi {
  constructor(
    readonly baseUrl: string,
    private readonly adminKey: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new AdminApiError(`${method} ${path}: HTTP ${res.status}${error ? ` ${error.code}: ${error.message}` : ''}`, res.status);
    }
    return parsed as T;
  }

  createSdkKey(name: string): Promise<CreatedApiKeyDto> {
    return this.call<CreatedApiKeyDto>('POST', '/v1/api-keys', { name, type: 'sdk-server' });
  }

  async revokeKey(id: string): Promise<void> {
    await this.call('POST', `/v1/api-keys/${encodeURIComponent(id)}/revoke`);
  }

  experiment(key: string): Promise<SimExperimentInfo> {
    return this.call<SimExperimentInfo>('GET', `/v1/experiments/${encodeURIComponent(key)}`);
  }

  async metric(key: string): Promise<MetricDto | null> {
    try {
      return await this.call<MetricDto>('GET', `/v1/metrics/${encodeURIComponent(key)}`);
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 404) return null;
      throw error;
    }
  }

  results(key: string): Promise<ExperimentResultsDto> {
    return this.call<ExperimentResultsDto>('GET', `/v1/experiments/${encodeURIComponent(key)}/results`);
  }

  /**
   * Results once the analysis has caught up with events received before `since` (the rollup
   * watermark trails the clock by STRATA_ROLLUP_LAG_MS), or the latest after `timeoutMs`.
   */
  async resultsAfter(key: string, since: Date, timeoutMs = 60_000): Promise<ExperimentResultsDto> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.results(key);
      if ((r.dataThrough !== null && Date.parse(r.dataThrough) >= since.getTime()) || Date.now() > deadline) return r;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
