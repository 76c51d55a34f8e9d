import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { COLLECTOR_APPLICATION_NAME } from '../event/event-store';
import { loadAnalysisDefinition, rollupDefinitionHash, type AnalysisDefinition } from './analysis-definition';
import {
  ADD_NEW_EVENTS,
  DELETE_ALL_DAILY,
  DELETE_ALL_ROLLUPS,
  deleteChangedUnitsSql,
  metricEventRows,
  MIN_FIRST_TS,
  recomputeUnitsSql,
} from './rollup-sql';

/** Events one results request may fold in before answering (the job does the rest). */
export const REQUEST_STEP_EVENTS = 200_000;

/** Whether any event or exposure row arrived in ($1, $2] (two index probes). */
const NOTHING_NEW = `
SELECT EXISTS (SELECT 1 FROM events WHERE received_at > $1 AND received_at <= $2)
    OR EXISTS (SELECT 1 FROM first_exposures WHERE experiment_key = $3 AND received_at > $1 AND received_at <= $2) AS any`;

/** Memory for a full rebuild's hash join over every unit and aggregation over every event (per transaction). */
const REBUILD_WORK_MEM = '256MB';
const STEP_WORK_MEM = '32MB';

/** Stopped experiments keep receiving late events for up to 7 days; keep rolling them up a day longer. */
const LATE_EVENT_DAYS = 8;

export interface AdvanceResult {
  watermark: Date | null;
  /** Whether the rollup now covers every event received up to the safe "now". */
  current: boolean;
  rebuilt: boolean;
  /** Units (or rollup rows) the step changed. */
  dirtyUnits: number;
  /** Goes up whenever a step changes rollup rows; equal versions mean equal aggregates. */
  rowsVersion: number;
}

/**
 * Keeps per-unit rollups current, per experiment, from a watermark on events.received_at.
 * Each step is one transaction under an advisory lock: recompute the units whose exposure row
 * arrived since the watermark from raw events (indexed by unit_id), add the metric
 * events received since the watermark to the other units' sums in place (received_at index),
 * move the watermark. Results then read only the rollups.
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
      const state: { watermark: Date; definition_hash: string; rows_version: string }[] = await manager.query(
        'SELECT watermark, definition_hash, rows_version FROM analysis_watermarks WHERE experiment_key = $1',
        [key],
      );
      const old = state[0];
      const safe = await this.safeNow(manager);
      if (old && old.definition_hash === hash && old.watermark >= safe) {
        return { watermark: old.watermark, current: true, rebuilt: false, dirtyUnits: 0, rowsVersion: Number(old.rows_version) };
      }
      const rebuild = !old || old.definition_hash !== hash;
      if (!rebuild) {
        // Nothing received since the watermark (the usual case between job runs): just move it.
        const news: { any: boolean }[] = await manager.query(NOTHING_NEW, [old.watermark, safe, key]);
        if (!news[0].any) {
          await manager.query('UPDATE analysis_watermarks SET watermark = $2, updated_at = now() WHERE experiment_key = $1', [key, safe]);
          return { watermark: safe, current: true, rebuilt: false, dirtyUnits: 0, rowsVersion: Number(old.rows_version) };
        }
      }
      let target = safe;
      if (!rebuild && maxEvents > 0) {
        const cut: { received_at: Date }[] = await manager.query(
          'SELECT received_at FROM events WHERE received_at > $1 AND received_at <= $2 ORDER BY received_at OFFSET $3 LIMIT 1',
          [old.watermark, safe, maxEvents],
        );
        if (cut.length) target = cut[0].received_at;
      }
      // A rebuild may restart rows_version (watermark row deleted): stored aggregates must not match by accident.
      if (rebuild) await manager.query('DELETE FROM analysis_aggregates WHERE experiment_key = $1', [key]);
      const dirtyUnits = await this.recompute(manager, def, rebuild ? null : old.watermark, target);
      // rows_version moves only when rollup rows changed: cached aggregates of the old version stay valid otherwise.
      // Without metrics there are no rollup rows, but the unit counts may have changed.
      const bump = rebuild || dirtyUnits > 0 || def.metrics.length === 0 ? 1 : 0;
      const saved: { rows_version: string }[] = await manager.query(
        `INSERT INTO analysis_watermarks AS w (experiment_key, watermark, definition_hash, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (experiment_key) DO UPDATE SET watermark = EXCLUDED.watermark, definition_hash = EXCLUDED.definition_hash, updated_at = now(),
                rows_version = w.rows_version + $4
         RETURNING rows_version`,
        [key, target, hash, bump],
      );
      return { watermark: target, current: target.getTime() === safe.getTime(), rebuilt: rebuild, dirtyUnits, rowsVersion: Number(saved[0].rows_version) };
    });
  }

  /** The stored rollup state without advancing it (draft experiments). */
  async state(key: string): Promise<{ watermark: Date | null; rowsVersion: number }> {
    const rows: { watermark: Date; rows_version: string }[] = await this.dataSource.query('SELECT watermark, rows_version FROM analysis_watermarks WHERE experiment_key = $1', [key]);
    return { watermark: rows[0]?.watermark ?? null, rowsVersion: Number(rows[0]?.rows_version ?? 0) };
  }

  async watermark(key: string): Promise<Date | null> {
    const rows: { watermark: Date }[] = await this.dataSource.query('SELECT watermark FROM analysis_watermarks WHERE experiment_key = $1', [key]);
    return rows[0]?.watermark ?? null;
  }

  /**
   * The newest received_at that no later commit can still fall behind. The collector stamps
   * received_at with its write transaction's start (now(), rounded up to the ms; event-store.ts),
   * so every row still to commit has received_at ≥ the xact_start of an open collector
   * transaction, or of one that starts after this read. The clock is read first, then the open
   * transactions (pg_stat_activity is a snapshot taken at its first read in this transaction):
   * a collector transaction missing from that snapshot starts after the clock reading. A
   * transaction leaves pg_stat_activity only once its commit is visible, and this transaction's
   * later statements (READ COMMITTED) see it. STRATA_ROLLUP_LAG_MS keeps an extra margin.
   */
  private async safeNow(manager: EntityManager): Promise<Date> {
    const [{ now }]: { now: Date }[] = await manager.query('SELECT clock_timestamp() AS now');
    const rows: { safe: Date }[] = await manager.query(
      `SELECT LEAST($1::timestamptz - $2 * interval '1 millisecond',
                    coalesce((SELECT min(xact_start) FROM pg_stat_activity
                               WHERE datname = current_database() AND application_name = $3 AND xact_start IS NOT NULL), 'infinity'))
              - interval '1 millisecond' AS safe`,
      [now, this.config.rollupLagMs, COLLECTOR_APPLICATION_NAME],
    );
    return rows[0].safe;
  }

  /**
   * A first build (or definition change) recomputes every unit in one pass over the events.
   * Otherwise the step is bounded by what arrived in (old, target]: units whose exposure row
   * arrived are recomputed from their events (index probes by unit), and the new metric events
   * of every other counted unit are added to its sums in place. Nothing scans all units or all
   * events of the experiment.
   */
  private async recompute(manager: EntityManager, def: AnalysisDefinition, old: Date | null, target: Date): Promise<number> {
    const key = def.key;
    const metricKeys = def.metrics.map((m) => m.key);
    let changed = 0;
    if (old === null) {
      // The build hashes every unit and aggregates every event: give it memory (this transaction only) instead of spilling to disk.
      await manager.query(`SET LOCAL work_mem = '${REBUILD_WORK_MEM}'`);
      await manager.query(DELETE_ALL_DAILY, [key]);
      await manager.query(DELETE_ALL_ROLLUPS, [key]);
    } else {
      await manager.query(`SET LOCAL work_mem = '${STEP_WORK_MEM}'`);
      await manager.query(deleteChangedUnitsSql('unit_metric_daily'), [key, metricKeys, old, target]);
      const deleted: { n: number }[] = await manager.query(deleteChangedUnitsSql('unit_metric_rollups'), [key, metricKeys, old, target]);
      changed += deleted[0].n;
    }
    if (def.metrics.length === 0) return 0;
    const rows = metricEventRows(def.metrics);
    const maxLookback = Math.max(0, ...def.metrics.map((m) => m.cupedLookbackDays));
    const bounds: { lo: Date | null }[] = await manager.query(MIN_FIRST_TS, [key, target, old]);
    if (bounds[0].lo !== null) {
      const lowerTs = new Date(bounds[0].lo.getTime() - (maxLookback + 1) * 86_400_000);
      const params: unknown[] = [key, ...rows, target, def.stoppedAt, lowerTs, metricKeys];
      if (old !== null) params.push(old);
      const recomputed: { n: number }[] = await manager.query(recomputeUnitsSql(old === null), params);
      changed += recomputed[0].n;
    }
    if (old !== null) {
      const added: { n: number }[] = await manager.query(ADD_NEW_EVENTS, [key, ...rows, target, def.stoppedAt, old]);
      changed += added[0].n;
    } else {
      // Fresh statistics for the plans that read the rollups (a build adds millions of rows at once).
      await manager.query('ANALYZE unit_metric_rollups');
      await manager.query('ANALYZE unit_metric_daily');
    }
    return changed;
  }
}
