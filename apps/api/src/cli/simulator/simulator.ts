import type { ConfigSnapshot, MetricType } from '@strata/contracts';
import { createClient, type Attributes, type StrataError, type StrataStats } from '@strata/sdk';
import { mulberry32 } from '@strata/stats';

/**
 * Simulator core, shared by `npm run simulate` and the demo seeding: drives realistic traffic
 * through the SDK against a running API. Units arrive spread over the last `days` days; each is
 * assigned by the SDK (which logs its exposure) and then emits metric events whose distribution
 * depends on its variant, so the analysis sees a known true effect.
 */

export interface SimMetric {
  /** Event name the metric counts (a metric's `eventName`). */
  eventName: string;
  type: MetricType;
  /**
   * Control level: conversion probability (conversion), mean events per unit (count), mean value
   * per unit (mean), numerator rate per denominator event (ratio).
   */
  baseline: number;
  /** True relative lift in every treatment variant (0.05 = +5%), or per variant key. */
  effect: number | Record<string, number>;
  /** Ratio metrics: the denominator event name (one to five per unit). */
  denominatorEventName?: string | null;
}

export interface SimulationOptions {
  apiUrl: string;
  sdkKey: string;
  experiment: string;
  /** Variant keys, control first (as the experiment lists them). */
  variants: string[];
  units: number;
  metrics: SimMetric[];
  /** Arrival window, ≤ 7 (the collector rejects events older than 7 days). */
  days: number;
  seed?: number;
  /**
   * Epoch ms before which no unit arrives: the experiment's start (the collector rejects exposures
   * more than 5 minutes before it). Arrivals are then spread over (max(start of days, notBefore), now].
   */
  notBefore?: number;
  /** Unit ids are `${unitPrefix}-${i}`; defaults to a random prefix so reruns add new units. */
  unitPrefix?: string;
  /** Attributes for unit i (targeting, segments). */
  attributes?: (i: number, rand: () => number) => Attributes;
  /** Called every `progressEvery` units with (units done, total). */
  onProgress?: (done: number, total: number) => void;
  onError?: (error: StrataError) => void;
  /** End of the arrival window (epoch ms). Default: now. */
  now?: number;
}

export interface VariantSummary {
  units: number;
  /** Per metric event name: mean per-unit value as emitted (conversion rate, events, value). */
  means: Record<string, number>;
}

export interface SimulationSummary {
  /** Units the SDK put into each variant (units outside the experiment are not counted). */
  variants: Record<string, VariantSummary>;
  unitsOutside: number;
  exposures: number;
  metricEvents: number;
  /** Observed relative lift of each treatment over control, per metric event name. */
  observedLift: Record<string, Record<string, number>>;
  stats: StrataStats;
  /** Wall-clock time the last event was acknowledged. */
  finishedAt: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BATCH_UNITS = 2000;

function poisson(lambda: number, rand: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function liftFor(metric: SimMetric, variant: string, isControl: boolean): number {
  if (isControl) return 0;
  return typeof metric.effect === 'number' ? metric.effect : (metric.effect[variant] ?? 0);
}

interface PlannedEvent {
  name: string;
  value?: number;
  at: number;
}

/** The metric events one unit emits after exposure at `t0`, given its variant's lift. */
function unitEvents(
  metric: SimMetric,
  lift: number,
  t0: number,
  end: number,
  rand: () => number,
): { events: PlannedEvent[]; value: number } {
  const level = metric.baseline * (1 + lift);
  // Events follow the exposure by an exponential delay (mean 2 h), and never pass the window end.
  const later = (): number => Math.min(end - 1000, t0 + 1000 + Math.floor(-Math.log(1 - rand()) * 2 * HOUR));
  const events: PlannedEvent[] = [];
  switch (metric.type) {
    case 'conversion': {
      if (rand() < level) events.push({ name: metric.eventName, at: later() });
      return { events, value: events.length };
    }
    case 'count': {
      const n = poisson(level, rand);
      for (let i = 0; i < n; i++) events.push({ name: metric.eventName, at: later() });
      return { events, value: n };
    }
    case 'mean': {
      // One purchase-like event per unit, value exponential around the level (sd = mean).
      const value = Math.round(-Math.log(1 - rand()) * level * 100) / 100;
      events.push({ name: metric.eventName, value, at: later() });
      return { events, value };
    }
    case 'ratio': {
      const sessions = 1 + poisson(2, rand);
      let hits = 0;
      for (let i = 0; i < sessions; i++) {
        if (metric.denominatorEventName) events.push({ name: metric.denominatorEventName, at: later() });
        if (rand() < level) hits++;
      }
      if (hits > 0) events.push({ name: metric.eventName, value: hits, at: later() });
      return { events, value: hits / sessions };
    }
  }
}

/**
 * A just-started experiment reaches the served snapshot asynchronously (change feed); wait for it
 * so the SDK's first snapshot already holds it.
 */
async function waitForExperiment(apiUrl: string, sdkKey: string, key: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${apiUrl.replace(/\/+$/, '')}/v1/sdk/config`, { headers: { authorization: `Bearer ${sdkKey}` } });
      if (res.ok) {
        const snapshot = (await res.json()) as ConfigSnapshot;
        if (snapshot.experiments.some((e) => e.key === key && e.status === 'running')) return;
      }
    } catch {
      // not reachable yet: retry until the deadline
    }
    if (Date.now() > deadline) throw new Error(`experiment "${key}" is not running in ${apiUrl}/v1/sdk/config`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs the simulation to the end (all events acknowledged or given up). Never throws for API errors. */
export async function simulate(o: SimulationOptions): Promise<SimulationSummary> {
  if (o.variants.length < 2) throw new Error(`experiment "${o.experiment}" needs at least two variants`);
  if (!(o.days > 0 && o.days <= 7)) throw new Error('days must be in (0, 7]: the collector rejects events older than 7 days');
  const rand = mulberry32(o.seed ?? 1);
  const end = o.now ?? Date.now();
  // Keep the oldest arrival 15 minutes inside the 7-day window so slow runs stay valid.
  const start = Math.max(end - o.days * DAY + 15 * 60_000, o.notBefore ?? -Infinity);
  if (!(start < end - 60_000)) throw new Error('the experiment started less than a minute ago: nothing to simulate yet');
  const prefix =
    o.unitPrefix ??
    `sim-${Math.floor(Math.random() * 0xffffff)
      .toString(16)
      .padStart(6, '0')}`;
  await waitForExperiment(o.apiUrl, o.sdkKey, o.experiment);
  let clock = end;
  const client = createClient({
    apiUrl: o.apiUrl,
    sdkKey: o.sdkKey,
    mode: 'local',
    maxBatchSize: 1000,
    maxQueueSize: 1_000_000,
    flushIntervalMs: 500,
    retryBaseMs: 200,
    timeoutMs: 10_000,
    maxRetries: 10,
    exposureCacheSize: Math.max(1000, o.units),
    now: () => clock,
    onError: o.onError,
  });
  if (!(await client.ready(15_000))) {
    await client.close(1000);
    throw new Error(`could not load the configuration from ${o.apiUrl}/v1/sdk/config`);
  }

  const control = o.variants[0];
  const perVariant = new Map<string, { units: number; sums: number[] }>(
    o.variants.map((v) => [v, { units: 0, sums: o.metrics.map(() => 0) }]),
  );
  let unitsOutside = 0;
  let exposures = 0;
  let metricEvents = 0;

  // Arrival times, sorted, so the simulated clock moves forward like real traffic.
  const arrivals = Array.from({ length: o.units }, () => start + rand() * (end - 60_000 - start)).sort((a, b) => a - b);
  for (let i = 0; i < o.units; i++) {
    const unitId = `${prefix}-${i}`;
    const attributes = o.attributes?.(i, rand);
    clock = Math.floor(arrivals[i]);
    const variant = client.getVariant(o.experiment, unitId, attributes);
    if (variant === null || !perVariant.has(variant)) {
      unitsOutside++;
    } else {
      exposures++;
      const arm = perVariant.get(variant)!;
      arm.units++;
      o.metrics.forEach((m, mi) => {
        const { events, value } = unitEvents(m, liftFor(m, variant, variant === control), clock, end, rand);
        arm.sums[mi] += value;
        for (const e of events) {
          clock = e.at;
          client.track(unitId, e.name, e.value);
          metricEvents++;
        }
      });
    }
    if ((i + 1) % BATCH_UNITS === 0 || i + 1 === o.units) {
      // Backpressure: let delivery catch up before generating more.
      await client.flush();
      o.onProgress?.(i + 1, o.units);
    }
  }
  await client.close(30_000);

  const variants: Record<string, VariantSummary> = {};
  for (const [v, arm] of perVariant) {
    variants[v] = {
      units: arm.units,
      means: Object.fromEntries(o.metrics.map((m, mi) => [m.eventName, arm.units ? arm.sums[mi] / arm.units : 0])),
    };
  }
  const observedLift: Record<string, Record<string, number>> = {};
  for (const m of o.metrics) {
    observedLift[m.eventName] = {};
    const base = variants[control].means[m.eventName];
    for (const v of o.variants.slice(1)) observedLift[m.eventName][v] = base ? variants[v].means[m.eventName] / base - 1 : NaN;
  }
  return { variants, unitsOutside, exposures, metricEvents, observedLift, stats: client.stats(), finishedAt: new Date() };
}
