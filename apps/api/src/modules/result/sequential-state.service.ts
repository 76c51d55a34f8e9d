import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { resultsQuerySchema, type ResultsQuery } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { readCaps, type StoredCap } from '../analysis/stats-store';
import type { TickConsumer, TickContext } from '../analysis/tick-consumer';
import { buildMetricResults, plannedN } from './results-builder';
import { withSequentialFold } from './sequential-fold';

/** The configuration the ticks advance: the results endpoint's defaults. */
export const DEFAULT_RESULTS_QUERY: ResultsQuery = resultsQuerySchema.parse({});

/**
 * Per-tick consumer: folds every changed, started experiment's fresh statistics into its monotone
 * sequences for the default configuration, so the running p / intersected interval include every
 * tick, not only the moments someone read the results.
 */
@Injectable()
export class SequentialStateService implements TickConsumer, OnModuleInit {
  readonly name = 'sequential-state';
  private readonly logger = new Logger(SequentialStateService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly engine: AnalysisEngineService,
  ) {}

  onModuleInit(): void {
    this.engine.register(this);
  }

  async onTick(tick: TickContext): Promise<void> {
    const started = tick.changed.filter((c) => c.definition.status !== 'draft' && c.definition.variants.length >= 2);
    if (started.length === 0) return;
    const caps = await readCaps(this.dataSource, started.map((c) => c.definition.key));
    for (const { definition, stats } of started) {
      try {
        await withSequentialFold(this.dataSource.manager, definition.key, caps.get(definition.key) ?? new Map<string, StoredCap>(), plannedN(definition), tick.dataThrough.toISOString(), (fold) =>
          buildMetricResults(definition, stats.aggregates, DEFAULT_RESULTS_QUERY, fold),
        );
      } catch (err) {
        this.logger.error(`sequential state of ${definition.key}: ${(err as Error).message}`);
      }
    }
  }
}
