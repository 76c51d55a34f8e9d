import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  FIRST_EXPOSURE_DAY,
  type ExperimentResultsDto,
  type ExperimentSummaryDto,
  type ExperimentTimeseriesDto,
  type MetricResultDto,
  type ResultsQuery,
  type SegmentResultDto,
} from '@strata/contracts';
import { In, type DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { EMPTY_SLICE, readCaps, readStats, type SliceStats, type StoredCap } from '../analysis/stats-store';
import { ExperimentEntity } from '../experiment/experiment.entity';
import { loadAnalysisDefinition, loadAnalysisDefinitions, type AnalysisDefinition } from './analysis-definition';
import { buildMetricResults, plannedN, type MetricAggregates } from './results-builder';
import { buildResults } from './results-decision';
import { readSequentialFolds, withSequentialFold, type SequentialFold } from './sequential-fold';
import { DEFAULT_RESULTS_QUERY } from './sequential-state.service';
import { readSrmState, readSrmStates } from '../guardrail/guardrail.service';
import { isWinsorized, MAX_SEGMENT_VALUES } from './rollup-sql';
import { readFlaggedInteractions } from '../interaction/interaction-store';
import { buildTimeseries, utcDays, type DailyDelta, type DailyUnits } from './timeseries-builder';
import { buildCohortNovelty, buildHeterogeneity, buildNovelty, cohortNoveltyAvailable } from './effect-checks';
import { buildPostStratified } from './post-stratification';

/** Everything the results are computed from, at one watermark. */
export interface AnalysisSnapshot {
  definition: AnalysisDefinition;
  dataThrough: Date | null;
  units: Map<string, number>;
  aggregates: MetricAggregates;
  /** Per segment value, when a segment was asked for. */
  segments: Map<string, MetricAggregates> | null;
  caps: Map<string, StoredCap>;
}

/** The results, with each winsorized metric's frozen cap and when it was computed. */
function withCaps(def: AnalysisDefinition, metrics: MetricResultDto[], caps: Map<string, StoredCap>): MetricResultDto[] {
  const byKey = new Map(def.metrics.map((m) => [m.key, m]));
  return metrics.map((m) => {
    const metric = byKey.get(m.metric);
    if (!metric || !isWinsorized(metric)) return m;
    const c = caps.get(m.metric);
    return {
      ...m,
      winsorization: c
        ? { percentile: c.percentile, cap: c.cap, covariateCap: c.covariateCap, units: c.units, computedAt: c.computedAt.toISOString() }
        : { percentile: metric.winsorizePercentile ?? 1, cap: null, covariateCap: null, units: 0, computedAt: null },
    };
  });
}

/**
 * Results, time series and summaries of experiments: keyed reads of the statistics the analysis
 * engine keeps (analysis_stats), then @strata/stats. A read first lets the engine catch up (one
 * shared, bounded tick: two index probes when nothing arrived), so its numbers include every event
 * received up to `dataThrough`; the cost of the read itself does not depend on the number of units.
 */
@Injectable()
export class ResultService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly engine: AnalysisEngineService,
  ) {}

  async results(key: string, query: ResultsQuery): Promise<ExperimentResultsDto> {
    const snap = await this.snapshot(key, query.segment);
    const now = new Date();
    const def = snap.definition;
    // ?stratify=: every value of the declared dimension (not only the top ones a breakdown shows).
    const strata = query.stratify ? await this.declaredSlices(def, query.stratify, 'stratify') : null;
    // The anytime-valid SRM state the guardrail consumer advances after every tick (folded here, not stored).
    const srmState = def.status === 'draft' ? null : await readSrmState(this.dataSource, key);
    const compute = (fold?: SequentialFold): ExperimentResultsDto => {
      const dto = buildResults(def, snap.aggregates, snap.units, query, snap.dataThrough, now, fold, srmState);
      if (snap.segments && query.segment) {
        // A declared dimension's segments keep their own monotone sequences (bounded: MAX_SEGMENT_VALUES
        // values of the declared dimensions); an ad-hoc attribute's are read-only, nothing is stored.
        const segmentFold = def.segmentDimensions.includes(query.segment) ? fold : undefined;
        const segments: SegmentResultDto[] = [];
        for (const [value, aggregates] of snap.segments) {
          segments.push({ segment: query.segment, value, metrics: withCaps(def, buildMetricResults(def, aggregates, query, segmentFold, `${query.segment}=${value}`), snap.caps) });
        }
        dto.segments = segments;
      }
      if (strata && query.stratify) {
        const slices = new Map([...strata].map(([value, st]) => [value, st.aggregates]));
        dto.postStratified = buildPostStratified(def, query.stratify, snap.aggregates, slices, query, fold);
      }
      return dto;
    };
    // Every read of a started experiment advances its monotone sequences for this configuration.
    const dto =
      def.status === 'draft'
        ? compute()
        : await withSequentialFold(this.dataSource.manager, key, snap.caps, plannedN(def), (snap.dataThrough ?? now).toISOString(), compute);
    dto.metrics = withCaps(def, dto.metrics, snap.caps);
    // Significant interactions with experiments of other layers, from the last interaction refresh (a keyed read).
    dto.interactions = await readFlaggedInteractions(this.dataSource, key);
    if (def.status !== 'draft') await this.effectChecks(def, snap.dataThrough, query.alpha, dto);
    return dto;
  }

  /**
   * Novelty and heterogeneity across the declared dimensions (their stored slices): one keyed read
   * each, then pure @strata/stats. Novelty uses the exposure-day cohorts (`first_exposure_day`
   * slices) when declared and the primary metric has an attribution window, else the per-day
   * slices the time series reads; the cohort dimension is novelty's, not heterogeneity's.
   */
  private async effectChecks(def: AnalysisDefinition, dataThrough: Date | null, alpha: number, dto: ExperimentResultsDto): Promise<void> {
    const byCohort = cohortNoveltyAvailable(def);
    const [daily, cohorts, dimensions] = await Promise.all([
      byCohort ? null : this.daily(def.key),
      byCohort ? this.declaredSlices(def, FIRST_EXPOSURE_DAY, 'segment') : null,
      Promise.all(
        def.segmentDimensions.filter((d) => d !== FIRST_EXPOSURE_DAY).map(async (dimension) => ({ dimension, slices: await this.segments(def, dimension) })),
      ),
    ]);
    const end = dataThrough ? Math.min(dataThrough.getTime(), def.stoppedAt?.getTime() ?? Infinity) : null;
    if (cohorts) {
      const slices = new Map([...cohorts].map(([value, st]) => [value, st.aggregates]));
      dto.novelty = buildCohortNovelty(def, slices, end === null ? null : new Date(end), alpha);
    } else if (daily) {
      const days = def.startedAt && end !== null ? utcDays(def.startedAt, new Date(end)) : [];
      const primary = def.metrics.find((m) => m.role === 'primary')?.key ?? '';
      dto.novelty = buildNovelty(def, days, daily.units, daily.deltas.get(primary) ?? [], alpha);
    }
    dto.heterogeneity = buildHeterogeneity(def, dimensions, alpha);
  }

  /** The stored per-day slices: units by first-exposure day, each metric's sums' change by event day. */
  private async daily(key: string): Promise<{ units: DailyUnits[]; deltas: Map<string, DailyDelta[]> }> {
    const days = (await readStats(this.dataSource, [key], 'day')).get(key) ?? new Map<string, SliceStats>();
    const units: DailyUnits[] = [];
    const deltas = new Map<string, DailyDelta[]>();
    for (const [day, s] of [...days].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (const [variant, n] of s.units) units.push({ day, variant, n });
      for (const [metric, arms] of s.aggregates) {
        let list = deltas.get(metric);
        if (!list) deltas.set(metric, (list = []));
        for (const [variant, a] of arms) list.push({ day, variant, dSum: a.sum, dSumSq: a.sumSq, dSumDen: a.sumDen, dSumDenSq: a.sumDenSq, dSumNumDen: a.sumNumDen });
      }
    }
    return { units, deltas };
  }

  /** The experiment's stored statistics (after a catch-up tick unless it is a draft). */
  async snapshot(key: string, segment?: string): Promise<AnalysisSnapshot> {
    let def = await loadAnalysisDefinition(this.dataSource.manager, key);
    if (def.status !== 'draft') {
      const tick = await this.engine.catchUp();
      // A guardrail consumer may have stopped it meanwhile: describe what the numbers belong to.
      if (tick.changed.includes(key)) def = await loadAnalysisDefinition(this.dataSource.manager, key);
    }
    const dataThrough = await this.engine.dataThrough(def);
    const [whole, caps] = await Promise.all([readStats(this.dataSource, [key], ''), readCaps(this.dataSource, [key])]);
    const all = whole.get(key)?.get('') ?? EMPTY_SLICE;
    const experimentCaps = caps.get(key) ?? new Map<string, StoredCap>();
    let segments: Map<string, MetricAggregates> | null = null;
    if (segment) segments = await this.segments(def, segment);
    return { definition: def, dataThrough, units: all.units, aggregates: all.aggregates, segments, caps: experimentCaps };
  }

  /**
   * Per segment value (top MAX_SEGMENT_VALUES by units), from the engine's store: only the
   * experiment's declared segment dimensions are kept, any other is a 400 (no per-request scan).
   */
  private async segments(def: AnalysisDefinition, segment: string): Promise<Map<string, MetricAggregates>> {
    const out = new Map<string, MetricAggregates>();
    const slices = await this.declaredSlices(def, segment, 'segment');
    const total = (s: SliceStats) => [...s.units.values()].reduce((a, b) => a + b, 0);
    const top = [...slices].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_SEGMENT_VALUES);
    for (const [value, s] of top.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) out.set(value, s.aggregates);
    return out;
  }

  /** Every value with units of a declared dimension (one keyed read); any other dimension is a 400 on `path`. */
  private async declaredSlices(def: AnalysisDefinition, dimension: string, path: 'segment' | 'stratify'): Promise<Map<string, SliceStats>> {
    if (!def.segmentDimensions.includes(dimension)) {
      throw new AppException('segment_not_declared', `The experiment "${def.key}" does not declare the segment dimension "${dimension}".`, [
        { path, message: `declared: ${def.segmentDimensions.join(', ') || '(none)'}; set segmentDimensions on the experiment to add one` },
      ]);
    }
    const slices = (await readStats(this.dataSource, [def.key], dimension)).get(def.key) ?? new Map<string, SliceStats>();
    return new Map([...slices].filter(([, s]) => [...s.units.values()].some((n) => n > 0)));
  }

  async timeseries(key: string, alpha: number): Promise<ExperimentTimeseriesDto> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    if (def.status !== 'draft') await this.engine.catchUp();
    const dataThrough = await this.engine.dataThrough(def);
    const query: ResultsQuery = { ...DEFAULT_RESULTS_QUERY, alpha };
    if (!dataThrough || !def.startedAt) return buildTimeseries(def, [], [], new Map(), query, plannedN(def));
    const { units, deltas } = await this.daily(key);
    const end = new Date(Math.min(dataThrough.getTime(), def.stoppedAt?.getTime() ?? Infinity));
    const caps = (await readCaps(this.dataSource, [key])).get(key) ?? new Map<string, StoredCap>();
    // The day-end reads continue the table's persisted relative sequences (same configuration key).
    return withSequentialFold(this.dataSource.manager, key, caps, plannedN(def), dataThrough.toISOString(), (fold) =>
      buildTimeseries(def, utcDays(def.startedAt as Date, end), units, deltas, query, plannedN(def), fold),
    );
  }

  /**
   * One list row per experiment from the stored statistics only (no catch-up tick, no
   * recomputation): four keyed queries for any number of keys, then @strata/stats per row.
   * Unknown keys are left out; rows come in the order of `keys`.
   */
  async summaries(keys: string[]): Promise<ExperimentSummaryDto[]> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return [];
    const experiments = await this.dataSource.manager.find(ExperimentEntity, { where: { key: In(unique) } });
    const defs = await loadAnalysisDefinitions(this.dataSource.manager, experiments);
    const byKey = new Map(defs.map((d) => [d.key, d]));
    const found = unique.filter((k) => byKey.has(k));
    const [stats, through, caps, srmStates] = await Promise.all([
      readStats(this.dataSource, found, ''),
      this.dataThroughMany(found),
      readCaps(this.dataSource, found),
      readSrmStates(this.dataSource, found),
    ]);
    // The page's default configuration, folded into the stored monotone states (read-only): the
    // list shows what the experiment's page shows, and cannot flip against it.
    const query = DEFAULT_RESULTS_QUERY;
    const now = new Date();
    const folds = await readSequentialFolds(
      this.dataSource.manager,
      found.map((k) => ({ key: k, caps: caps.get(k) ?? new Map<string, StoredCap>(), plannedSampleSize: plannedN(byKey.get(k) as AnalysisDefinition) })),
      now.toISOString(),
    );
    return found.map((key) => {
      const def = byKey.get(key) as AnalysisDefinition;
      const s = stats.get(key)?.get('') ?? EMPTY_SLICE;
      const r = buildResults(def, s.aggregates, s.units, query, through.get(key) ?? null, now, def.status === 'draft' ? undefined : folds.get(key), srmStates.get(key) ?? null);
      const primary = r.metrics.find((m) => m.role === 'primary');
      let best: ExperimentSummaryDto['primary'] = null;
      if (primary) {
        const good = primary.direction === 'increase' ? 1 : -1;
        for (const v of primary.variants) {
          const seq = v.relative?.sequential;
          if (!seq) continue;
          const defined = seq.reason === undefined && Number.isFinite(seq.estimate);
          const row = {
            metric: primary.metric,
            variant: v.variant,
            relativeLift: defined ? seq.estimate : null,
            ci: defined ? seq.ci : null,
            pValue: defined ? (v.adjustedPValue ?? seq.pValue) : null,
            significant: defined && seq.significant,
          };
          if (!best || (row.relativeLift !== null && (best.relativeLift === null || good * row.relativeLift > good * best.relativeLift))) best = row;
        }
      }
      const g = { ok: 0, harm: 0, insufficientData: 0 };
      for (const x of r.guardrails) {
        if (x.status === 'ok') g.ok++;
        else if (x.status === 'harm') g.harm++;
        else g.insufficientData++;
      }
      return {
        experiment: key,
        status: def.status,
        dataThrough: r.dataThrough,
        totalUnits: r.totalUnits,
        primary: r.totalUnits > 0 ? best : null,
        srm: r.srm ? { flagged: r.srm.flagged, pValue: r.srm.pValue } : null,
        guardrails: g,
        decision: r.dataThrough ? r.decision.hint : null,
      };
    });
  }

  private async dataThroughMany(keys: string[]): Promise<Map<string, Date>> {
    const rows: { experiment_key: string; watermark: Date }[] = await this.dataSource.query(
      `SELECT w.experiment_key,
              CASE WHEN e.status = 'running' OR e.stopped_at > now() - interval '8 days' THEN greatest(w.watermark, s.watermark) ELSE w.watermark END AS watermark
         FROM analysis_watermarks w JOIN experiments e ON e.key = w.experiment_key
         LEFT JOIN analysis_engine_state s ON s.shard = 0
        WHERE w.experiment_key = ANY($1::text[])`,
      [keys],
    );
    return new Map(rows.map((r) => [r.experiment_key, r.watermark]));
  }
}
