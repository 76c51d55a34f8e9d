import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { loadAnalysisDefinition, rollupDefinitionHash, type AnalysisDefinition } from './analysis-definition';
import {
  CREATE_DIRTY,
  DELETE_ALL_DAILY,
  DELETE_ALL_ROLLUPS,
  DELETE_DIRTY_DAILY,
  DELETE_DIRTY_ROLLUPS,
  DELETE_FORCED,
  DIRTY_ALL,
  DIRTY_SINCE,
  INSERT_DAILY,
  INSERT_ROLLUPS,
  metricEventNames,
  metricEventRows,
} from './rollup-sql';

/** Events one results request may fold in before answering (the job does the rest). */
export const REQUEST_STEP_EVENTS = 200_000;

/** Stopped experiments keep receiving late events for up to 7 days; keep rolling them up a day longer. */
const LATE_EVENT_DAYS = 8;

export interface AdvanceResult {
  watermark: Date | null;
  /** Whether the rollup now covers every event received up to the safe "now". */
  current: boolean;
  rebuilt: boolean;
  dirtyUnits: number;
}

/**
 * Keeps per-unit rollups current, per experiment, from a watermark on events.received_at.
 * Each step is one transaction under an advisory lock: find the units whose exposure or metric
 * events arrived since the watermark, recompute exactly those units from raw events (indexed by
 * name, unit_id, ts), move the watermark. Results then read only the rollups.
 */
@Injectable()
export class RollupService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RollupService.name);
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled) return;
    this.timer = setInterval(() => void this.runOnce().catch((err: unknown) => this.logger.error(`rollup job failed: ${String(err)}`)), this.config.rollupIntervalSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One job run: brings every running (or recently stopped) experiment up to date. */
  async runOnce(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const rows: { key: string }[] = await this.dataSource.query(
        `SELECT key FROM experiments
          WHERE status = 'running' OR (status IN ('stopped', 'shipped') AND stopped_at > now() - $1 * interval '1 day')
          ORDER BY key`,
        [LATE_EVENT_DAYS],
      );
      for (const { key } of rows) await this.advanceUntilCurrent(key);
      return rows.length;
    } finally {
      this.running = false;
    }
  }

  async advanceUntilCurrent(key: string, stepEvents = 2_000_000): Promise<AdvanceResult> {
    for (;;) {
      const r = await this.advance(key, stepEvents);
      if (r.current) return r;
    }
  }

  /**
   * One bounded step: at most about `maxEvents` newly received events (ties on received_at
   * included). A first build or a definition change rebuilds the whole experiment at once.
   */
  async advance(key: string, maxEvents = REQUEST_STEP_EVENTS): Promise<AdvanceResult> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`strata.rollup:${key}`]);
      const def = await loadAnalysisDefinition(manager, key);
      const hash = rollupDefinitionHash(def);
      const state: { watermark: Date; definition_hash: string }[] = await manager.query(
        'SELECT watermark, definition_hash FROM analysis_watermarks WHERE experiment_key = $1',
        [key],
      );
      const old = state[0];
      const safe = await this.safeNow(manager);
      if (old && old.definition_hash === hash && old.watermark >= safe) {
        return { watermark: old.watermark, current: true, rebuilt: false, dirtyUnits: 0 };
      }
      const rebuild = !old || old.definition_hash !== hash;
      let target = safe;
      if (!rebuild && maxEvents > 0) {
        const cut: { received_at: Date }[] = await manager.query(
          'SELECT received_at FROM events WHERE received_at > $1 AND received_at <= $2 ORDER BY received_at OFFSET $3 LIMIT 1',
          [old.watermark, safe, maxEvents],
        );
        if (cut.length) target = cut[0].received_at;
      }
      const dirtyUnits = await this.recompute(manager, def, rebuild ? null : old.watermark, target);
      await manager.query(
        `INSERT INTO analysis_watermarks (experiment_key, watermark, definition_hash, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (experiment_key) DO UPDATE SET watermark = EXCLUDED.watermark, definition_hash = EXCLUDED.definition_hash, updated_at = now()`,
        [key, target, hash],
      );
      return { watermark: target, current: target.getTime() === safe.getTime(), rebuilt: rebuild, dirtyUnits };
    });
  }

  async watermark(key: string): Promise<Date | null> {
    const rows: { watermark: Date }[] = await this.dataSource.query('SELECT watermark FROM analysis_watermarks WHERE experiment_key = $1', [key]);
    return rows[0]?.watermark ?? null;
  }

  /**
   * The newest received_at that no later commit can still fall behind: the collector stamps
   * received_at when it accepts an event and commits it shortly after (group commit), so the
   * watermark stays STRATA_ROLLUP_LAG_MS behind the clock, and never passes the start of a
   * transaction that is still writing.
   */
  private async safeNow(manager: EntityManager): Promise<Date> {
    const rows: { safe: Date }[] = await manager.query(
      `SELECT LEAST(clock_timestamp() - $1 * interval '1 millisecond',
                    coalesce((SELECT min(xact_start) FROM pg_stat_activity
                               WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL), 'infinity')) AS safe`,
      [this.config.rollupLagMs],
    );
    return rows[0].safe;
  }

  private async recompute(manager: EntityManager, def: AnalysisDefinition, old: Date | null, target: Date): Promise<number> {
    const key = def.key;
    await manager.query(CREATE_DIRTY);
    const names = metricEventNames(def.metrics);
    if (old === null) {
      await manager.query(DELETE_ALL_DAILY, [key]);
      await manager.query(DELETE_ALL_ROLLUPS, [key]);
      await manager.query(DIRTY_ALL, [key, target]);
    } else {
      await manager.query(DELETE_FORCED, [key, old]);
      await manager.query(DIRTY_SINCE, [key, target, old, names]);
    }
    const counted: { n: string }[] = await manager.query('SELECT count(*) AS n FROM strata_dirty');
    const dirty = Number(counted[0].n);
    if (dirty === 0 || def.metrics.length === 0) return dirty;
    await manager.query('ANALYZE strata_dirty');
    if (old !== null) {
      await manager.query(DELETE_DIRTY_DAILY, [key]);
      await manager.query(DELETE_DIRTY_ROLLUPS, [key]);
    }
    const rows = metricEventRows(def.metrics);
    const maxLookback = Math.max(0, ...def.metrics.map((m) => m.cupedLookbackDays));
    const bounds: { lo: Date | null }[] = await manager.query('SELECT min(first_ts) AS lo FROM strata_dirty');
    const lowerTs = new Date((bounds[0].lo ?? target).getTime() - (maxLookback + 1) * 86_400_000);
    await manager.query(INSERT_DAILY, [key, ...rows, target, def.stoppedAt, lowerTs]);
    await manager.query(INSERT_ROLLUPS, [key, ...rows, target, def.metrics.map((m) => m.key)]);
    return dirty;
  }
}
