import { createHash } from 'node:crypto';
import {
  DEFAULT_SEGMENT_DIMENSIONS,
  type ExperimentStatus,
  type MetricDirection,
  type MetricType,
  type VariantDto,
} from '@strata/contracts';
import { In, type EntityManager } from 'typeorm';
import { NotFoundException } from '../../common/errors/app.exception';
import { ExperimentEntity } from '../experiment/experiment.entity';
import { MetricEntity } from '../metric/metric.entity';

export type MetricRole = 'primary' | 'secondary' | 'guardrail';

/** One metric as the analysis needs it. */
export interface AnalysisMetric {
  key: string;
  name: string;
  type: MetricType;
  eventName: string;
  denominatorEventName: string | null;
  direction: MetricDirection;
  winsorizePercentile: number | null;
  harmThreshold: number | null;
  attributionWindowHours: number | null;
  /** 0 disables CUPED; ratio metrics never use it (the delta-method linearisation has no covariate). */
  cupedLookbackDays: number;
  role: MetricRole;
  isGuardrail: boolean;
}

/** Everything the rollup, results, guardrail and export code needs about one experiment. */
export interface AnalysisDefinition {
  key: string;
  status: ExperimentStatus;
  /** The first variant is control. */
  variants: VariantDto[];
  startedAt: Date | null;
  stoppedAt: Date | null;
  plannedSampleSize: number | null;
  /** Null: DEFAULT_MIN_DURATION_DAYS. */
  minDurationDays: number | null;
  autoStop: boolean;
  alerts: ExperimentEntity['alerts'];
  metrics: AnalysisMetric[];
  /** Exposure attributes (or `day_of_week`) whose per-value statistics the engine keeps. */
  segmentDimensions: string[];
}

/** Bump when the per-unit SQL changes meaning, so every rollup is rebuilt once. */
// 3: `first_exposure_day` became the exposure-day cohort (it was read as an exposure attribute).
const ROLLUP_SQL_VERSION = 3;

export async function loadAnalysisDefinition(manager: EntityManager, key: string): Promise<AnalysisDefinition> {
  const e = await manager.findOne(ExperimentEntity, { where: { key } });
  if (!e) throw new NotFoundException('experiment', key);
  return toDefinition(e, await loadMetrics(manager, metricKeysOf(e)));
}

/** Definitions of many experiments in two queries (the engine's tick and the summaries). */
export async function loadAnalysisDefinitions(manager: EntityManager, experiments: ExperimentEntity[]): Promise<AnalysisDefinition[]> {
  const byKey = await loadMetrics(manager, [...new Set(experiments.flatMap(metricKeysOf))]);
  return experiments.map((e) => toDefinition(e, byKey));
}

/** The metrics named by `keys`, by key, in one query (none for no keys); a deleted metric is absent. */
export async function loadMetrics(manager: EntityManager, keys: string[]): Promise<Map<string, MetricEntity>> {
  const rows = keys.length ? await manager.find(MetricEntity, { where: { key: In(keys) } }) : [];
  return new Map(rows.map((m) => [m.key, m]));
}

/** A stored metric as the analysis reads it, in the role the experiment (or holdout) gives it. */
export function analysisMetric(m: MetricEntity, role: MetricRole, isGuardrail: boolean): AnalysisMetric {
  return {
    key: m.key,
    name: m.name,
    type: m.type,
    eventName: m.eventName,
    denominatorEventName: m.denominatorEventName,
    direction: m.direction,
    winsorizePercentile: m.winsorizePercentile,
    harmThreshold: m.harmThreshold,
    attributionWindowHours: m.attributionWindowHours,
    cupedLookbackDays: m.type === 'ratio' ? 0 : m.cupedLookbackDays,
    role,
    isGuardrail,
  };
}

function metricKeysOf(e: ExperimentEntity): string[] {
  return [...(e.primaryMetric ? [e.primaryMetric] : []), ...e.secondaryMetrics, ...e.guardrailMetrics];
}

function toDefinition(e: ExperimentEntity, byKey: Map<string, MetricEntity>): AnalysisDefinition {
  const ordered: { key: string; role: MetricRole }[] = [];
  const seen = new Set<string>();
  const push = (k: string | null, role: MetricRole) => {
    if (k && !seen.has(k)) {
      seen.add(k);
      ordered.push({ key: k, role });
    }
  };
  push(e.primaryMetric, 'primary');
  e.secondaryMetrics.forEach((k) => push(k, 'secondary'));
  e.guardrailMetrics.forEach((k) => push(k, 'guardrail'));
  const guardrails = new Set(e.guardrailMetrics);
  const metrics: AnalysisMetric[] = [];
  for (const o of ordered) {
    const m = byKey.get(o.key);
    if (m) metrics.push(analysisMetric(m, o.role, guardrails.has(m.key)));
  }
  return {
    key: e.key,
    status: e.status,
    variants: e.variants,
    startedAt: e.startedAt,
    stoppedAt: e.stoppedAt,
    plannedSampleSize: e.plannedSampleSize,
    minDurationDays: e.minDurationDays ?? null,
    autoStop: e.autoStop,
    alerts: e.alerts,
    metrics,
    segmentDimensions: e.segmentDimensions ?? DEFAULT_SEGMENT_DIMENSIONS,
  };
}

/**
 * What the stored per-unit values depend on. When it changes (a metric's events, attribution
 * window or lookback, the metric list, the stop time, the segment dimensions) the experiment is
 * rebuilt. Winsorization caps (analysis_caps) and directions are deliberately not part of it.
 */
export function rollupDefinitionHash(def: AnalysisDefinition): string {
  const parts = {
    v: ROLLUP_SQL_VERSION,
    stoppedAt: def.stoppedAt?.toISOString() ?? null,
    segments: def.segmentDimensions,
    metrics: def.metrics
      .map((m) => [m.key, m.type, m.eventName, m.denominatorEventName, m.attributionWindowHours, m.cupedLookbackDays])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}
