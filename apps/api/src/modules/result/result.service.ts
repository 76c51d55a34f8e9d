import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ExperimentResultsDto, ExperimentTimeseriesDto, ResultsQuery, SegmentResultDto } from '@strata/contracts';
import { DEFAULT_PLANNED_SAMPLE_SIZE } from '@strata/stats';
import type { DataSource, EntityManager } from 'typeorm';
import { loadAnalysisDefinition, rollupDefinitionHash, type AnalysisDefinition, type AnalysisMetric } from './analysis-definition';
import { buildMetricResults, buildResults, type ArmAggregate, type MetricAggregates } from './results-builder';
import { AGGREGATE_ALL_METRICS, capsSql, dailyDeltasSql, isWinsorized, segmentAggregateSql, UNITS_BY_DAY, UNITS_BY_VARIANT } from './rollup-sql';
import { RollupService } from './rollup.service';
import { buildTimeseries, utcDays, type DailyDelta, type DailyUnits } from './timeseries-builder';

interface AggregateRow {
  segment?: string;
  metric_key?: string;
  variant_key: string;
  n: number;
  sum: number | null;
  sum_sq: number | null;
  cov_sum: number | null;
  cov_sum_sq: number | null;
  cross_sum: number | null;
  sum_den: number | null;
  sum_den_sq: number | null;
  sum_num_den: number | null;
}

/** Memory for sorting one metric's per-unit values (percentile caps, time series window), per transaction. */
const CAPS_WORK_MEM = '64MB';

/** What the stored aggregates depend on besides the rollup rows: the metrics and their winsorization. */
function aggregatesParamsHash(def: AnalysisDefinition): string {
  const parts = { rollup: rollupDefinitionHash(def), caps: def.metrics.map((m) => [m.key, m.type, m.winsorizePercentile]) };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** JSON form of the aggregates in analysis_aggregates. */
interface StoredAggregates {
  units: [string, number][];
  metrics: [string, [string, ArmAggregate][]][];
}

interface StoredTimeseries {
  units: DailyUnits[];
  deltas: [string, DailyDelta[]][];
}

function toStored(units: Map<string, number>, aggregates: MetricAggregates): StoredAggregates {
  return { units: [...units], metrics: [...aggregates].map(([k, arms]) => [k, [...arms]]) };
}

function fromStored(s: StoredAggregates): { units: Map<string, number>; aggregates: MetricAggregates } {
  return { units: new Map(s.units), aggregates: new Map(s.metrics.map(([k, arms]) => [k, new Map(arms)])) };
}

function toArm(r: AggregateRow): ArmAggregate {
  return {
    // float8 aggregates arrive as numbers; Number() guards against a numeric slipping in.
    n: Number(r.n),
    sum: Number(r.sum ?? 0),
    sumSq: Number(r.sum_sq ?? 0),
    covSum: Number(r.cov_sum ?? 0),
    covSumSq: Number(r.cov_sum_sq ?? 0),
    crossSum: Number(r.cross_sum ?? 0),
    sumDen: Number(r.sum_den ?? 0),
    sumDenSq: Number(r.sum_den_sq ?? 0),
    sumNumDen: Number(r.sum_num_den ?? 0),
  };
}

/** Everything the results are computed from, at one watermark. */
export interface AnalysisSnapshot {
  definition: AnalysisDefinition;
  dataThrough: Date | null;
  units: Map<string, number>;
  aggregates: MetricAggregates;
  /** Per segment value, when a segment was asked for. */
  segments: Map<string, MetricAggregates> | null;
}

/**
 * Results and time series of an experiment. Reads only rollups and first_exposures: the rollup
 * is advanced first (one bounded step) so the numbers are fresh, and `dataThrough` says to when.
 */
@Injectable()
export class ResultService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rollups: RollupService,
  ) {}

  async results(key: string, query: ResultsQuery): Promise<ExperimentResultsDto> {
    const snap = await this.snapshot(key, query.segment);
    const dto = buildResults(snap.definition, snap.aggregates, snap.units, query, snap.dataThrough);
    if (snap.segments && query.segment) {
      const segments: SegmentResultDto[] = [];
      for (const [value, aggregates] of snap.segments) {
        segments.push({ segment: query.segment, value, metrics: buildMetricResults(snap.definition, aggregates, query) });
      }
      dto.segments = segments;
    }
    return dto;
  }

  /**
   * Advances the rollup (bounded) and reads every metric's per-variant sufficient statistics:
   * from `analysis_aggregates` when the rollup rows have not changed since they were computed
   * (one row), else from the rollups (one pass over the experiment's rows), then stored.
   */
  async snapshot(key: string, segment?: string): Promise<AnalysisSnapshot> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    const step = def.status === 'draft' ? await this.rollups.state(key) : await this.rollups.advance(key);
    const dataThrough = step.watermark;
    let units = new Map<string, number>();
    let aggregates: MetricAggregates = new Map();
    let segments: Map<string, MetricAggregates> | null = null;
    if (dataThrough) {
      const paramsHash = aggregatesParamsHash(def);
      const cached: { aggregates: StoredAggregates }[] = await this.dataSource.query(
        `SELECT aggregates FROM analysis_aggregates WHERE experiment_key = $1 AND kind = 'results' AND rows_version = $2 AND params_hash = $3`,
        [key, step.rowsVersion, paramsHash],
      );
      if (cached.length) {
        ({ units, aggregates } = fromStored(cached[0].aggregates));
      } else {
        ({ units, aggregates } = await this.computeAggregates(def, paramsHash));
      }
      if (segment) {
        const caps = await this.caps(this.dataSource.manager, key, def.metrics);
        segments = new Map();
        const bySegment = await Promise.all(def.metrics.map((m) => this.segmentAggregate(key, m, segment, caps.get(m.key) ?? null)));
        def.metrics.forEach((m, i) => {
          for (const [value, arms] of bySegment[i]) {
            if (!segments?.has(value)) segments?.set(value, new Map());
            segments?.get(value)?.set(m.key, arms);
          }
        });
      }
    }
    return { definition: def, dataThrough, units, aggregates, segments };
  }

  /**
   * Aggregates the rollups in one REPEATABLE READ snapshot, together with the rows_version they
   * belong to, and stores them under that version (a concurrent step cannot slip rows in between).
   */
  private async computeAggregates(def: AnalysisDefinition, paramsHash: string): Promise<{ units: Map<string, number>; aggregates: MetricAggregates }> {
    const key = def.key;
    const computed = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      // percentile_cont sorts every unit's value: in memory rather than spilling at the 4 MB default.
      await manager.query(`SET LOCAL work_mem = '${CAPS_WORK_MEM}'`);
      const state: { watermark: Date; rows_version: string }[] = await manager.query('SELECT watermark, rows_version FROM analysis_watermarks WHERE experiment_key = $1', [key]);
      const caps = await this.caps(manager, key, def.metrics);
      const rows: AggregateRow[] = await manager.query(AGGREGATE_ALL_METRICS, [
        key,
        def.metrics.map((m) => m.key),
        def.metrics.map((m) => m.type),
        def.metrics.map((m) => caps.get(m.key)?.y ?? null),
        def.metrics.map((m) => caps.get(m.key)?.c ?? null),
      ]);
      const aggregates: MetricAggregates = new Map();
      for (const m of def.metrics) aggregates.set(m.key, new Map());
      for (const r of rows) aggregates.get(r.metric_key ?? '')?.set(r.variant_key, toArm(r));
      const units = new Map<string, number>();
      if (def.metrics.length > 0) {
        // Every counted unit has one rollup row per metric: the first metric's n are the units
        // (and exactly the n the statistics use), without scanning first_exposures again.
        for (const [variant, arm] of aggregates.get(def.metrics[0].key) ?? []) units.set(variant, arm.n);
      } else if (state[0]) {
        const unitRows: { variant_key: string; n: number }[] = await manager.query(UNITS_BY_VARIANT, [key, state[0].watermark]);
        for (const r of unitRows) units.set(r.variant_key, Number(r.n));
      }
      return { units, aggregates, version: Number(state[0]?.rows_version ?? 0) };
    });
    await this.dataSource.query(
      `INSERT INTO analysis_aggregates AS a (experiment_key, kind, rows_version, params_hash, aggregates, computed_at) VALUES ($1, 'results', $2, $3, $4, now())
       ON CONFLICT (experiment_key, kind) DO UPDATE SET rows_version = EXCLUDED.rows_version, params_hash = EXCLUDED.params_hash,
              aggregates = EXCLUDED.aggregates, computed_at = now()
        WHERE a.rows_version <= EXCLUDED.rows_version`,
      [key, computed.version, paramsHash, JSON.stringify(toStored(computed.units, computed.aggregates))],
    );
    return computed;
  }

  /** Winsorization caps of the winsorized metrics, concurrently (each sorts its units once). */
  private async caps(manager: EntityManager, key: string, metrics: AnalysisMetric[]): Promise<Map<string, { y: number | null; c: number | null }>> {
    const out = new Map<string, { y: number | null; c: number | null }>();
    for (const m of metrics.filter(isWinsorized)) {
      const rows: { y_cap: number | null; c_cap: number | null }[] = await manager.query(capsSql(m), [key, m.key, m.winsorizePercentile]);
      out.set(m.key, { y: rows[0]?.y_cap ?? null, c: rows[0]?.c_cap ?? null });
    }
    return out;
  }

  private async segmentAggregate(key: string, metric: AnalysisMetric, segment: string, caps: { y: number | null; c: number | null } | null): Promise<Map<string, Map<string, ArmAggregate>>> {
    const { sql, segmentParam } = segmentAggregateSql(metric, segment);
    const params: unknown[] = [key, metric.key, caps?.y ?? null, caps?.c ?? null];
    if (segmentParam !== null) params.push(segmentParam);
    const rows: AggregateRow[] = await this.dataSource.query(sql, params);
    const out = new Map<string, Map<string, ArmAggregate>>();
    for (const r of rows) {
      const value = r.segment ?? '';
      if (!out.has(value)) out.set(value, new Map());
      out.get(value)?.set(r.variant_key, toArm(r));
    }
    return out;
  }

  async timeseries(key: string, alpha: number): Promise<ExperimentTimeseriesDto> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    const step = def.status === 'draft' ? await this.rollups.state(key) : await this.rollups.advance(key);
    const dataThrough = step.watermark;
    if (!dataThrough || !def.startedAt) return buildTimeseries(def, [], [], new Map(), alpha, 1);
    const paramsHash = aggregatesParamsHash(def);
    const cached: { aggregates: StoredTimeseries }[] = await this.dataSource.query(
      `SELECT aggregates FROM analysis_aggregates WHERE experiment_key = $1 AND kind = 'timeseries' AND rows_version = $2 AND params_hash = $3`,
      [key, step.rowsVersion, paramsHash],
    );
    const { units, deltas } = cached.length
      ? { units: cached[0].aggregates.units, deltas: new Map(cached[0].aggregates.deltas) }
      : await this.computeTimeseries(def, paramsHash);
    const end = new Date(Math.min(dataThrough.getTime(), def.stoppedAt?.getTime() ?? Infinity));
    const planned = def.plannedSampleSize && def.plannedSampleSize > 0 ? def.plannedSampleSize : DEFAULT_PLANNED_SAMPLE_SIZE;
    return buildTimeseries(def, utcDays(def.startedAt, end), units, deltas, alpha, planned);
  }

  /** Units per first-exposure day and per-day changes of every metric, at one rows_version (stored like the results' aggregates). */
  private async computeTimeseries(def: AnalysisDefinition, paramsHash: string): Promise<{ units: DailyUnits[]; deltas: Map<string, DailyDelta[]> }> {
    const key = def.key;
    const computed = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      // The window runs over each unit's days in primary-key order; memory in case the planner sorts instead.
      await manager.query(`SET LOCAL work_mem = '${CAPS_WORK_MEM}'`);
      const state: { watermark: Date; rows_version: string }[] = await manager.query('SELECT watermark, rows_version FROM analysis_watermarks WHERE experiment_key = $1', [key]);
      const unitRows: { day: string; variant_key: string; n: number }[] = state[0] ? await manager.query(UNITS_BY_DAY, [key, state[0].watermark]) : [];
      const units: DailyUnits[] = unitRows.map((r) => ({ day: r.day, variant: r.variant_key, n: Number(r.n) }));
      const deltas = new Map<string, DailyDelta[]>();
      for (const m of def.metrics) {
        const rows: { day: string; variant_key: string; d_sum: number; d_sum_sq: number; d_sum_den: number; d_sum_den_sq: number; d_sum_num_den: number }[] =
          await manager.query(dailyDeltasSql(m.type), [key, m.key]);
        deltas.set(
          m.key,
          rows.map((r) => ({ day: r.day, variant: r.variant_key, dSum: Number(r.d_sum), dSumSq: Number(r.d_sum_sq), dSumDen: Number(r.d_sum_den), dSumDenSq: Number(r.d_sum_den_sq), dSumNumDen: Number(r.d_sum_num_den) })),
        );
      }
      return { units, deltas, version: Number(state[0]?.rows_version ?? 0) };
    });
    const stored: StoredTimeseries = { units: computed.units, deltas: [...computed.deltas] };
    await this.dataSource.query(
      `INSERT INTO analysis_aggregates AS a (experiment_key, kind, rows_version, params_hash, aggregates, computed_at) VALUES ($1, 'timeseries', $2, $3, $4, now())
       ON CONFLICT (experiment_key, kind) DO UPDATE SET rows_version = EXCLUDED.rows_version, params_hash = EXCLUDED.params_hash,
              aggregates = EXCLUDED.aggregates, computed_at = now()
        WHERE a.rows_version <= EXCLUDED.rows_version`,
      [key, computed.version, paramsHash, JSON.stringify(stored)],
    );
    return computed;
  }
}
