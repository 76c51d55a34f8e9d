import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { resultsQuerySchema, type GuardrailStatusDto, type ResultsQuery } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { readCaps, type SliceStats, type StoredCap } from '../analysis/stats-store';
import type { TickConsumer, TickContext } from '../analysis/tick-consumer';
import type { AnalysisDefinition } from './analysis-definition';
import { buildMetricResults, guardrailsFromMetrics, plannedN } from './results-builder';
import { withSequentialFold } from './sequential-fold';

/** The configuration the ticks advance: the results endpoint's defaults. */
export const DEFAULT_RESULTS_QUERY: ResultsQuery = resultsQuerySchema.parse({});

/**
 * Per-tick consumer: folds every changed, started experiment's fresh statistics into its monotone
 * sequences for the default configuration, so the running p / intersected interval include every
 * tick, not only the moments someone read the results. It runs before the guardrail and rollout
 * consumers (its module is imported by theirs, so it registers first) and keeps the guardrail
 * statuses of the sequences it just folded: auto-stop decides on the intersected intervals the
 * results page shows, not on fresh ones that may disagree with it.
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

  /** Guardrail statuses from the last tick's fold, by experiment, for that tick's data time. */
  private tickGuardrails: { at: string; byKey: Map<string, GuardrailStatusDto[]> } = { at: '', byKey: new Map() };

  async onTick(tick: TickContext): Promise<void> {
    const at = tick.dataThrough.toISOString();
    const byKey = new Map<string, GuardrailStatusDto[]>();
    this.tickGuardrails = { at, byKey };
    const started = tick.changed.filter((c) => c.definition.status !== 'draft' && c.definition.variants.length >= 2);
    if (started.length === 0) return;
    const caps = await readCaps(this.dataSource, started.map((c) => c.definition.key));
    for (const { definition, stats } of started) {
      try {
        byKey.set(definition.key, await this.fold(definition, stats, caps.get(definition.key) ?? new Map<string, StoredCap>(), at));
      } catch (err) {
        this.logger.error(`sequential state of ${definition.key}: ${(err as Error).message}`);
      }
    }
  }

  /**
   * The guardrail statuses of the default configuration on the monotone (folded) sequences, as
   * the results page shows them: from this tick's fold when it covered the experiment at this data
   * time, else folded now (advancing the stored sequences as a results read does).
   */
  async guardrails(def: AnalysisDefinition, stats: SliceStats, dataThrough: Date | null): Promise<GuardrailStatusDto[]> {
    if (!def.metrics.some((m) => m.isGuardrail) || def.variants.length < 2) return [];
    const at = (dataThrough ?? new Date()).toISOString();
    const kept = this.tickGuardrails.at === at ? this.tickGuardrails.byKey.get(def.key) : undefined;
    if (kept) return kept;
    const caps = await readCaps(this.dataSource, [def.key]);
    return this.fold(def, stats, caps.get(def.key) ?? new Map<string, StoredCap>(), at);
  }

  private async fold(def: AnalysisDefinition, stats: SliceStats, caps: Map<string, StoredCap>, at: string): Promise<GuardrailStatusDto[]> {
    const metrics = await withSequentialFold(this.dataSource.manager, def.key, caps, plannedN(def), at, (fold) => buildMetricResults(def, stats.aggregates, DEFAULT_RESULTS_QUERY, fold));
    return guardrailsFromMetrics(def, metrics, DEFAULT_RESULTS_QUERY.alpha);
  }
}
