import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { InteractionDto, InteractionRefreshDto, InteractionsQuery, Page, VariantDto } from '@strata/contracts';
import type { DataSource, QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { CANDIDATE_EXPERIMENTS, CREATE_INTERACTION_UNITS, INSERT_TESTS, INTERACTION_LOCK, READ_CELLS, REPLACE_CELLS } from './interaction-sql';
import { listInteractions } from './interaction-store';
import { interactionRows, pairBound, sampleBuckets, type InteractionExperiment, type InteractionRow, type PairCell } from './interaction-tests';

/** Tests written per INSERT statement. */
const INSERT_CHUNK = 5000;

interface CandidateRow {
  key: string;
  layer_key: string;
  variants: VariantDto[];
  primary_metric: string;
  type: string;
  y_cap: number | null;
  rows_version: string;
  units: string;
}

type CellRow = Record<'exp_a' | 'exp_b' | 'arm_a' | 'arm_b', string> &
  Record<'n' | 'a_sum' | 'a_sum_sq' | 'a_sum_den' | 'a_sum_den_sq' | 'a_sum_num_den' | 'b_sum' | 'b_sum_sq' | 'b_sum_den' | 'b_sum_den_sq' | 'b_sum_num_den', string | number>;

/**
 * Interaction checks across layers, for EVERY pair of running experiments in different layers
 * that share at least `minUnits` analysed units: each experiment's effect on its primary metric
 * across the other's arms (@strata/stats interactionTest), with one FDR correction over all tests.
 * A refresh is one REPEATABLE READ transaction over the engine's stored per-unit values: one
 * keyed range per experiment, one join on unit id producing every pair's per-arm cells, then the
 * tests; cells and tests are replaced in that transaction. Scheduled every
 * STRATA_INTERACTION_INTERVAL_SECONDS, and on demand (POST /v1/analysis/interactions/refresh); a
 * scheduled refresh with no experiment's statistics changed since the last one writes nothing.
 * The join's rows are bounded by STRATA_INTERACTION_MAX_ROWS (units sampled by hash above it).
 */
@Injectable()
export class InteractionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InteractionService.name);
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<InteractionRefreshDto> | null = null;
  /** What the last refresh was computed from: (experiment, rows_version, cap) and the settings. */
  private lastSignature: string | null = null;
  private last: InteractionRefreshDto | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly engine: AnalysisEngineService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled) return;
    const loop = () => {
      if (this.stopped) return;
      this.refresh(false)
        .catch((err: unknown) => this.logger.error(`interaction refresh failed: ${String(err)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.config.interactions.intervalSeconds * 1000).unref();
        });
    };
    this.timer = setTimeout(loop, this.config.interactions.intervalSeconds * 1000).unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([this.running]);
  }

  /** The stored tests of the last refresh, a page at a time. */
  list(query: InteractionsQuery): Promise<Page<InteractionDto>> {
    return listInteractions(this.dataSource, query);
  }

  /** The last refresh's summary in this process (null before the first). */
  lastRefresh(): InteractionRefreshDto | null {
    return this.last;
  }

  /** On demand: the engine catches up first, then every pair is recomputed (even when nothing changed). */
  async refreshNow(): Promise<InteractionRefreshDto> {
    await this.engine.catchUp();
    return this.refresh(true);
  }

  /** One refresh at a time in this process (callers arriving meanwhile share it). */
  refresh(force: boolean): Promise<InteractionRefreshDto> {
    if (this.running) return this.running;
    const run = this.run(force).finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async run(force: boolean): Promise<InteractionRefreshDto> {
    const started = Date.now();
    const { minUnits, fdr, correction, maxRows } = this.config.interactions;
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction('REPEATABLE READ');
      try {
        await qr.query(INTERACTION_LOCK);
        const experiments = await this.candidates(qr);
        const bound = pairBound(experiments);
        const buckets = sampleBuckets(bound.rows, maxRows);
        const signature = JSON.stringify([minUnits, fdr, correction, buckets, experiments.map((e) => [e.key, e.rowsVersion, e.cap, e.arms])]);
        const base = { experiments: experiments.length, candidatePairs: bound.pairs, rowsBound: bound.rows, sampleFraction: buckets / 1024, correction, fdr, minUnits };
        if (!force && signature === this.lastSignature) {
          await qr.commitTransaction();
          return { ...(this.last ?? { pairs: 0, tests: 0, flagged: 0, computedAt: null }), ...base, worked: false, ms: Date.now() - started };
        }
        const cells = await this.cells(qr, experiments, buckets, minUnits);
        const rows = interactionRows(experiments, cells, fdr, correction);
        const computedAt = new Date();
        await qr.query('DELETE FROM analysis_interactions');
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) await this.insert(qr, rows.slice(i, i + INSERT_CHUNK), buckets / 1024, computedAt);
        await qr.commitTransaction();
        this.lastSignature = signature;
        const pairs = new Set(cells.map((c) => `${c.expA}\u0000${c.expB}`)).size;
        this.last = { ...base, worked: true, pairs, tests: rows.length, flagged: rows.filter((r) => r.flagged).length, computedAt: computedAt.toISOString(), ms: Date.now() - started };
        return this.last;
      } catch (err) {
        await qr.rollbackTransaction();
        throw err;
      }
    } finally {
      await qr.release();
    }
  }

  private async candidates(qr: QueryRunner): Promise<InteractionExperiment[]> {
    const rows = (await qr.query(CANDIDATE_EXPERIMENTS)) as CandidateRow[];
    return rows
      .map((r) => ({
        key: r.key,
        layer: r.layer_key,
        arms: r.variants.map((v) => v.key),
        metric: r.primary_metric,
        metricType: r.type,
        cap: r.y_cap,
        rowsVersion: Number(r.rows_version),
        units: Number(r.units),
      }))
      .filter((e) => e.arms.length >= 2 && e.units >= this.config.interactions.minUnits);
  }

  private async cells(qr: QueryRunner, experiments: InteractionExperiment[], buckets: number, minUnits: number): Promise<PairCell[]> {
    await qr.query(REPLACE_CELLS[0]);
    if (experiments.length < 2) return [];
    await qr.query(CREATE_INTERACTION_UNITS, [
      experiments.map((e) => e.key),
      experiments.map((e) => e.layer),
      experiments.map((e) => e.metric),
      experiments.map((e) => e.metricType),
      experiments.map((e) => e.cap),
      buckets,
    ]);
    await qr.query('ANALYZE ix_units');
    await qr.query(REPLACE_CELLS[1], [minUnits]);
    const rows = (await qr.query(READ_CELLS)) as CellRow[];
    const side = (r: CellRow, s: 'a' | 'b') => ({
      sum: Number(r[`${s}_sum`]),
      sumSq: Number(r[`${s}_sum_sq`]),
      sumDen: Number(r[`${s}_sum_den`]),
      sumDenSq: Number(r[`${s}_sum_den_sq`]),
      sumNumDen: Number(r[`${s}_sum_num_den`]),
    });
    return rows.map((r) => ({ expA: r.exp_a, expB: r.exp_b, armA: r.arm_a, armB: r.arm_b, n: Number(r.n), a: side(r, 'a'), b: side(r, 'b') }));
  }

  private async insert(qr: QueryRunner, rows: InteractionRow[], sampleFraction: number, computedAt: Date): Promise<void> {
    if (rows.length === 0) return;
    const col = <T>(f: (r: InteractionRow) => T) => rows.map(f);
    await qr.query(INSERT_TESTS, [
      col((r) => r.subject),
      col((r) => r.other),
      col((r) => r.metric),
      col((r) => r.units),
      col((r) => r.method),
      col((r) => r.df),
      col((r) => finite(r.statistic)),
      col((r) => finite(r.estimate)),
      col((r) => finite(r.se)),
      col((r) => finite(r.pValue)),
      col((r) => finite(r.adjustedPValue)),
      col((r) => r.flagged),
      col((r) => JSON.stringify(r.contrasts)),
      col((r) => r.reason),
      sampleFraction,
      computedAt,
      this.config.interactions.correction,
      this.config.interactions.fdr,
    ]);
  }
}

function finite(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? x : null;
}
