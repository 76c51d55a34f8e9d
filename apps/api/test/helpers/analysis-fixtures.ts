import { expect } from 'vitest';
import type { TestApp } from './test-app';

/** Helpers to set up experiments and send events through the real HTTP API. */

export interface MetricSpec {
  key: string;
  type: 'conversion' | 'count' | 'mean' | 'ratio';
  eventName: string;
  denominatorEventName?: string;
  direction?: 'increase' | 'decrease';
  winsorizePercentile?: number;
  harmThreshold?: number;
  attributionWindowHours?: number;
  cupedLookbackDays?: number;
}

export interface ExperimentSpec {
  key: string;
  weights?: number[];
  primary?: string;
  secondary?: string[];
  guardrails?: string[];
  autoStop?: boolean;
  plannedSampleSize?: number;
  forced?: { unitId: string; variant: string }[];
  /** Absent: the default dimensions. */
  segmentDimensions?: string[];
}

export async function createMetric(t: TestApp, m: MetricSpec): Promise<void> {
  const res = await t.admin('POST', '/v1/metrics', { name: m.key, ...m });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

export async function startExperiment(t: TestApp, e: ExperimentSpec): Promise<void> {
  const layer = await t.admin('POST', '/v1/layers', { key: `${e.key}-layer`, name: `${e.key} layer` });
  expect(layer.status, JSON.stringify(layer.body)).toBe(201);
  const weights = e.weights ?? [0.5, 0.5];
  const created = await t.admin('POST', '/v1/experiments', {
    key: e.key,
    name: e.key,
    layer: `${e.key}-layer`,
    variants: weights.map((w, i) => ({ key: i === 0 ? 'control' : weights.length === 2 ? 'treatment' : `treatment${i}`, weight: w })),
    traffic: 100,
    primaryMetric: e.primary,
    secondaryMetrics: e.secondary ?? [],
    guardrailMetrics: e.guardrails ?? [],
    autoStop: e.autoStop ?? false,
    plannedSampleSize: e.plannedSampleSize,
    forcedVariants: e.forced ?? [],
    ...(e.segmentDimensions ? { segmentDimensions: e.segmentDimensions } : {}),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  // Started (nearly) 7 days back, so exposures timed anywhere in the collector's window are admitted.
  const started = await t.admin('POST', `/v1/experiments/${e.key}/start`, { startedAt: backdatedStart() });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  await coverWeeklyCycle(t, e.key);
}

/**
 * Moves a fixture's start a day further back, past the 7-day minimum duration (the API accepts a
 * start at most 7 days back), so "Ready to ship" expectations hold; tests of the duration rule
 * set their own start. Only admits more exposures, never fewer.
 */
export async function coverWeeklyCycle(t: TestApp, key: string): Promise<void> {
  await t.dataSource.query("UPDATE experiments SET started_at = started_at - interval '1 day' WHERE key = $1", [key]);
}

/** The variant the API assigns each unit (POST /v1/assign/batch), waiting for the snapshot to see the start. */
export async function assignedVariants(t: TestApp, sdkKey: string, experiment: string, unitIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < unitIds.length; i += 1000) {
    const units = unitIds.slice(i, i + 1000).map((unitId) => ({ unitId }));
    for (let attempt = 0; ; attempt++) {
      const res = await t.request('POST', '/v1/assign/batch', { key: sdkKey, body: { units, experiments: [experiment] } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const results = res.body.results as { unitId: string; assignments: { experiment: string; variant: string }[] }[];
      if (results.every((r) => r.assignments.some((a) => a.experiment === experiment))) {
        for (const r of results) out.set(r.unitId, r.assignments.find((a) => a.experiment === experiment)?.variant ?? '');
        break;
      }
      if (attempt > 100) throw new Error(`assignment never saw ${experiment}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return out;
}

export interface SentEvent {
  type: 'exposure' | 'metric';
  unitId: string;
  experiment?: string;
  variant?: string;
  name?: string;
  value?: number;
  timestamp: string;
  attributes?: Record<string, string | number | boolean>;
}

/** POST /v1/events in batches of 1,000; every event must be accepted (retries while the collector's catalog catches up). */
export async function sendEvents(t: TestApp, sdkKey: string, events: SentEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const batch = events.slice(i, i + 1000);
    for (let attempt = 0; ; attempt++) {
      const res = await t.request('POST', '/v1/events', { key: sdkKey, body: { events: batch } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const rejected = res.body.rejected as { code: string; message: string }[];
      if (rejected.length === 0) break;
      const retryable = rejected.every((r) => r.code === 'unknown_experiment' || r.code === 'experiment_not_started');
      if (!retryable || attempt > 100) throw new Error(`events rejected: ${JSON.stringify(rejected.slice(0, 3))}`);
      // Accepted ones are stored already; resending them is deduplicated only with ids, so resend the rejected only.
      const bad = new Set((res.body.rejected as { index: number }[]).map((r) => r.index));
      batch.splice(0, batch.length, ...batch.filter((_, j) => bad.has(j)));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A start time just inside the 7 days a start may be backdated (and events may be old). */
export function backdatedStart(now = Date.now()): string {
  return new Date(now - 7 * 86_400_000 + 60_000).toISOString();
}

export function isoAgo(ms: number, now = Date.now()): string {
  return new Date(now - ms).toISOString();
}
