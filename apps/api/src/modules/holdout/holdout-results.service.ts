import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HOLDOUT_ARM, REST_ARM, type HoldoutResultsDto, type ResultsQuery } from '@strata/contracts';
import { DataSource } from 'typeorm';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { EMPTY_SLICE, readCaps, readStats, type StoredCap } from '../analysis/stats-store';
import { loadMetrics } from '../result/analysis-definition';
import { plannedN } from '../result/results-builder';
import { buildResults } from '../result/results-decision';
import { withSequentialFold } from '../result/sequential-fold';
import { holdoutDefinition } from './holdout-definition';
import { HoldoutService } from './holdout.service';

/**
 * A holdout's comparison from the statistics the analysis engine keeps under `holdout:<key>`
 * (incremental, by exact deltas, like an experiment's): one catch-up tick, keyed reads, then the
 * same sequential statistics and persisted monotone sequences as experiment results. The cost of
 * a read does not depend on the number of units.
 */
@Injectable()
export class HoldoutResultsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly engine: AnalysisEngineService,
    private readonly holdouts: HoldoutService,
  ) {}

  async results(key: string, query: ResultsQuery): Promise<HoldoutResultsDto> {
    const manager = this.dataSource.manager;
    const h = await this.holdouts.find(manager, key);
    const def = holdoutDefinition(h, await loadMetrics(manager, h.metricKeys));
    await this.engine.catchUp();
    const dataThrough = await this.engine.dataThrough(def);
    const [stats, caps] = await Promise.all([readStats(this.dataSource, [def.key], ''), readCaps(this.dataSource, [def.key])]);
    const slice = stats.get(def.key)?.get('') ?? EMPTY_SLICE;
    const storedCaps = caps.get(def.key) ?? new Map<string, StoredCap>();
    const now = new Date();
    const r = await withSequentialFold(manager, def.key, storedCaps, plannedN(def), (dataThrough ?? now).toISOString(), (fold) =>
      buildResults(def, slice.aggregates, slice.units, query, dataThrough, now, fold),
    );
    return {
      holdout: h.key,
      share: h.share,
      layers: h.layerKeys,
      computedAt: r.computedAt,
      dataThrough: r.dataThrough,
      alpha: r.alpha,
      correction: r.correction,
      units: { holdout: slice.units.get(HOLDOUT_ARM) ?? 0, rest: slice.units.get(REST_ARM) ?? 0 },
      metrics: r.metrics,
      srm: r.srm,
    };
  }
}
