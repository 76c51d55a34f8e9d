import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ExperimentResultsDto, ExperimentTimeseriesDto, ResultsQuery, SegmentResultDto } from '@strata/contracts';
import { DEFAULT_PLANNED_SAMPLE_SIZE } from '@strata/stats';
import type { DataSource } from 'typeorm';
import { loadAnalysisDefinition, type AnalysisDefinition } from './analysis-definition';
import { buildMetricResults, buildResults, type ArmAggregate, type MetricAggregates } from './results-builder';
import { aggregateSql, dailyDeltasSql, UNITS_BY_DAY, UNITS_BY_VARIANT } from './rollup-sql';
import { RollupService } from './rollup.service';
import { buildTimeseries, utcDays, type DailyDelta, type DailyUnits } from './timeseries-builder';

interface AggregateRow {
  segment: string;
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

  /** Advances the rollup (bounded) and reads every metric's per-variant sufficient statistics. */
  async snapshot(key: string, segment?: string): Promise<AnalysisSnapshot> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    const dataThrough = def.status === 'draft' ? await this.rollups.watermark(key) : (await this.rollups.advance(key)).watermark;
    const units = new Map<string, number>();
    const aggregates: MetricAggregates = new Map();
    let segments: Map<string, MetricAggregates> | null = null;
    if (dataThrough) {
      // One query per metric, concurrently (one connection each, so both cores work).
      const perMetric = await Promise.all(def.metrics.map((m) => this.aggregate(key, m, undefined)));
      def.metrics.forEach((m, i) => aggregates.set(m.key, perMetric[i].get('') ?? new Map()));
      if (def.metrics.length > 0) {
        // Every counted unit has one rollup row per metric: the first metric's n are the units
        // (and exactly the n the statistics use), without scanning first_exposures again.
        for (const [variant, arm] of aggregates.get(def.metrics[0].key) ?? []) units.set(variant, arm.n);
      } else {
        const rows: { variant_key: string; n: number }[] = await this.dataSource.query(UNITS_BY_VARIANT, [key, dataThrough]);
        for (const r of rows) units.set(r.variant_key, Number(r.n));
      }
      if (segment) {
        segments = new Map();
        const bySegment = await Promise.all(def.metrics.map((m) => this.aggregate(key, m, segment)));
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

  private async aggregate(key: string, metric: AnalysisDefinition['metrics'][number], segment: string | undefined): Promise<Map<string, Map<string, ArmAggregate>>> {
    const { sql, segmentParam } = aggregateSql(metric, segment);
    const params: unknown[] = [key, metric.key, metric.winsorizePercentile];
    if (segmentParam !== null) params.push(segmentParam);
    const rows: AggregateRow[] = await this.dataSource.query(sql, params);
    const out = new Map<string, Map<string, ArmAggregate>>();
    for (const r of rows) {
      if (!out.has(r.segment)) out.set(r.segment, new Map());
      out.get(r.segment)?.set(r.variant_key, {
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
      });
    }
    return out;
  }

  async timeseries(key: string, alpha: number): Promise<ExperimentTimeseriesDto> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    const dataThrough = def.status === 'draft' ? await this.rollups.watermark(key) : (await this.rollups.advance(key)).watermark;
    if (!dataThrough || !def.startedAt) return buildTimeseries(def, [], [], new Map(), alpha, 1);
    const unitRows: { day: string; variant_key: string; n: number }[] = await this.dataSource.query(UNITS_BY_DAY, [key, dataThrough]);
    const units: DailyUnits[] = unitRows.map((r) => ({ day: r.day, variant: r.variant_key, n: Number(r.n) }));
    const deltas = new Map<string, DailyDelta[]>();
    for (const m of def.metrics) {
      const rows: { day: string; variant_key: string; d_sum: number; d_sum_sq: number; d_sum_den: number; d_sum_den_sq: number; d_sum_num_den: number }[] =
        await this.dataSource.query(dailyDeltasSql(m.type), [key, m.key]);
      deltas.set(
        m.key,
        rows.map((r) => ({ day: r.day, variant: r.variant_key, dSum: Number(r.d_sum), dSumSq: Number(r.d_sum_sq), dSumDen: Number(r.d_sum_den), dSumDenSq: Number(r.d_sum_den_sq), dSumNumDen: Number(r.d_sum_num_den) })),
      );
    }
    const end = new Date(Math.min(dataThrough.getTime(), def.stoppedAt?.getTime() ?? Infinity));
    const planned = def.plannedSampleSize && def.plannedSampleSize > 0 ? def.plannedSampleSize : DEFAULT_PLANNED_SAMPLE_SIZE;
    return buildTimeseries(def, utcDays(def.startedAt, end), units, deltas, alpha, planned);
  }
}
