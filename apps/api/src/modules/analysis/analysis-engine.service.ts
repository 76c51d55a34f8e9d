import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, QueryRunner } from 'typeorm';
import { IntervalJob } from '../../common/time/interval-job';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { COLLECTOR_APPLICATION_NAME } from '../event/store/event-store';
import { Telemetry } from '../telemetry/telemetry';
import { ExperimentEntity } from '../experiment/experiment.entity';
import { loadAnalysisDefinitions, rollupDefinitionHash, type AnalysisDefinition } from '../result/analysis-definition';
import { isWinsorized } from '../result/rollup-sql';
import {
  bind,
  COMPUTE_CAPS,
  contributionsSql,
  CREATE_TICK_UNITS,
  DELETE_CHANGED,
  DELETE_EXPERIMENT_STATE,
  DELETE_METRIC_STATS,
  MIN_CHANGED_FIRST_TS,
  RECOMPUTE_CHANGED,
  SAVE_ENGINE_STATE,
  SAVE_EXPERIMENT_STATE,
  TOUCH_EXPOSED,
  TOUCH_REBUILT,
} from './engine-sql';
import { EMPTY_SLICE, readStats } from './stats-store';
import { applyEventsSql } from './tick-delta-sql';
import { isAnalysed, LATE_EVENT_DAYS, metricArrays } from './tick-inputs';
import { loadHoldoutDefinitions } from '../holdout/holdout-definition';
import { loadShipDefinitions } from '../rollout/ship-definition';
import type { ChangedExperiment, TickConsumer } from './tick-consumer';

/** Events a results read may fold in before answering (the job does the rest). */
export const REQUEST_STEP_EVENTS = 200_000;


/** One lock for the whole engine: at most one tick at a time across every API process. */
const ENGINE_LOCK_SQL = `SELECT pg_advisory_lock(hashtextextended('strata.analysis-engine', 0))`;
const ENGINE_UNLOCK_SQL = `SELECT pg_advisory_unlock(hashtextextended('strata.analysis-engine', 0))`;

/** Above this many touched units the temporary table gets statistics before the joins. */
const ANALYZE_TICK_UNITS = 20_000;
/** After a tick that wrote this many units' rows (a first build), the engine's tables get fresh planner statistics. */
const ANALYZE_TABLES_UNITS = 50_000;

/** How often the engine looks for winsorization caps that are due (the caps interval decides). */
const CAPS_CHECK_MS = 60_000;
/** Definitions are reloaded on a configuration change, and at least this often (the 8-day window moves). */
const DEFINITIONS_MAX_AGE_MS = 5 * 60_000;

export interface TickReport {
  /** False for an idle tick: nothing received, nothing to rebuild, nothing written. */
  worked: boolean;
  /** Events received up to this time are in the statistics. */
  dataThrough: Date | null;
  /** Experiments whose statistics changed. */
  changed: string[];
  rebuilt: string[];
  /** Units whose contribution the tick replaced. */
  touchedUnits: number;
  /** Whether the tick covered everything received up to the safe "now" (false when bounded). */
  current: boolean;
  ms: number;
  /** Milliseconds per statement of the tick (for the bench and slow-tick logs). */
  steps: Record<string, number>;
}

interface Definitions {
  version: number;
  loadedAt: number;
  list: AnalysisDefinition[];
  byKey: Map<string, AnalysisDefinition>;
  hashes: Map<string, string>;
}

/**
 * The analysis engine: ONE continuous job for every experiment. A tick takes the events received
 * since the global watermark and, in one REPEATABLE READ transaction of set-based statements,
 * applies them to every affected experiment at once (see engine-sql.ts): touched units' old
 * contributions to the per-variant statistics are subtracted, their per-unit rollups updated
 * (recomputed from raw events when their exposure row changed, else incremented in place), and
 * their new contributions added. An idle tick is two reads (the config version with the
 * watermark; then a BRIN probe of events and an index range of first_exposures per experiment)
 * and writes nothing. After a tick that changed
 * something, the registered consumers (guardrails, SRM) get the changed experiments and their
 * fresh statistics.
 */
@Injectable()
export class AnalysisEngineService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AnalysisEngineService.name);
  private timer: NodeJS.Timeout | null = null;
  private readonly consumers: TickConsumer[] = [];
  private readonly sweeps: IntervalJob[] = [];
  /** The tick running now, and the one queued behind it (callers arriving meanwhile share it). */
  private running: Promise<TickReport> | null = null;
  private queued: Promise<TickReport> | null = null;
  private consumerChain: Promise<void> = Promise.resolve();
  private defs: Definitions | null = null;
  /** Definition hash each experiment's stored state was built with, as last seen. */
  private stateHashes = new Map<string, string>();
  /** An idle check proved nothing was received in (watermark, through]. */
  private verified: { watermark: number; through: Date } | null = null;
  private capsRequested: Set<string> | 'all' = new Set();
  private nextCapsCheck = 0;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(Telemetry) private readonly telemetry: Telemetry | null = null,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled) return;
    const loop = () => {
      if (this.stopped) return;
      this.tick()
        .catch((err: unknown) => this.logger.error(`analysis tick failed: ${String(err)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.config.analysisTickSeconds * 1000).unref();
        });
    };
    this.timer = setTimeout(loop, this.config.analysisTickSeconds * 1000).unref();
    for (const consumer of this.consumers) {
      if (!consumer.sweep) continue;
      const job = new IntervalJob(this.logger, `${consumer.name} sweep failed`, () => consumer.sweep!());
      job.start(consumer.sweepSeconds ?? this.config.analysisTickSeconds);
      this.sweeps.push(job);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const job of this.sweeps) job.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([this.running, this.queued, this.consumerChain]);
  }

  /** Consumers run after every tick that changed statistics, in registration order; their sweeps on their own timers. */
  register(consumer: TickConsumer): void {
    this.consumers.push(consumer);
  }

  /** Waits until the consumers of every tick so far have run (tests, shutdown). */
  async settled(): Promise<void> {
    await this.consumerChain;
  }

  /**
   * One tick, shared: a call while a tick runs waits for the next one (which starts when the
   * running one ends), and every call arriving meanwhile shares that same next tick.
   * `maxEvents` bounds the events folded in (a results read); the job passes none.
   */
  tick(maxEvents: number | null = null): Promise<TickReport> {
    if (this.queued) return this.queued;
    const after = this.running ?? Promise.resolve(null);
    const next = after
      .catch(() => null)
      .then(() => {
        this.queued = null;
        const run = this.runTick(maxEvents);
        // Idle ticks too: the histogram shows how cheap they are; the watermark age how fresh results are.
        run.then((r) => this.telemetry?.observeAnalysisTick(r.ms / 1000, r.touchedUnits, r.dataThrough), () => undefined);
        this.running = run;
        return run.finally(() => {
          if (this.running === run) this.running = null;
        });
      });
    this.queued = next;
    return next;
  }

  /** What a read calls first: one bounded tick (two index probes when nothing arrived). */
  catchUp(): Promise<TickReport> {
    return this.tick(REQUEST_STEP_EVENTS);
  }

  /** Drops the stored state of experiments: the next tick rebuilds them from raw events. */
  async rebuild(keys: string[]): Promise<void> {
    await this.dataSource.query('DELETE FROM analysis_watermarks WHERE experiment_key = ANY($1::text[])', [keys]);
    for (const k of keys) this.stateHashes.delete(k);
  }

  /** Winsorization caps of these experiments (all when omitted) are recomputed by the next tick. */
  requestCaps(keys?: string[]): void {
    if (!keys) this.capsRequested = 'all';
    else if (this.capsRequested !== 'all') for (const k of keys) this.capsRequested.add(k);
    this.nextCapsCheck = 0;
  }

  /**
   * Events received up to this time are in the experiment's statistics: the global watermark
   * (or a later idle check) for analysed experiments, the experiment's own last change otherwise.
   * Null before its first build.
   */
  async dataThrough(def: AnalysisDefinition): Promise<Date | null> {
    const rows: { own: Date | null; global: Date | null }[] = await this.dataSource.query(
      `SELECT (SELECT watermark FROM analysis_watermarks WHERE experiment_key = $1) AS own,
              (SELECT watermark FROM analysis_engine_state WHERE shard = 0) AS global`,
      [def.key],
    );
    const { own, global } = rows[0];
    if (!own) return null;
    if (!isAnalysed(def) || !global) return own;
    if (this.verified && this.verified.watermark === global.getTime() && this.verified.through > global) return this.verified.through;
    return global;
  }

  private async definitions(version: number): Promise<Definitions> {
    const d = this.defs;
    if (d && d.version === version && Date.now() - d.loadedAt < DEFINITIONS_MAX_AGE_MS) return d;
    const experiments = await this.dataSource.manager
      .createQueryBuilder(ExperimentEntity, 'e')
      .where(`e.status = 'running' OR (e.status <> 'draft' AND e.stopped_at > now() - :days * interval '1 day')`, { days: LATE_EVENT_DAYS })
      .orderBy('e.key')
      .getMany();
    // Holdouts are analysed like experiments, under `holdout:<key>` (their exposures carry that key);
    // staged ships under `ship:<key>`.
    const list = [
      ...(await loadAnalysisDefinitions(this.dataSource.manager, experiments)),
      ...(await loadHoldoutDefinitions(this.dataSource.manager)),
      ...(await loadShipDefinitions(this.dataSource.manager)),
    ];
    const hashes = new Map(list.map((x) => [x.key, rollupDefinitionHash(x)]));
    const rows: { experiment_key: string; definition_hash: string }[] = await this.dataSource.query(
      'SELECT experiment_key, definition_hash FROM analysis_watermarks WHERE experiment_key = ANY($1::text[])',
      [list.map((x) => x.key)],
    );
    this.stateHashes = new Map(rows.map((r) => [r.experiment_key, r.definition_hash]));
    this.defs = { version, loadedAt: Date.now(), list, byKey: new Map(list.map((x) => [x.key, x])), hashes };
    return this.defs;
  }

  /**
   * The newest received_at no later commit can still fall behind (see docs/analysis.md): the
   * clock minus the lag, and 1 ms before the start of every open collector transaction. Read
   * BEFORE the tick's snapshot is taken, so every transaction missing from pg_stat_activity here
   * either committed before that snapshot or starts (and stamps received_at) after the clock read.
   * Between the two reads, the definitions (cached per configuration version) are loaded.
   */
  private async probe(): Promise<{ defs: Definitions; watermark: Date | null; safe: Date; news: boolean }> {
    const [head]: { now: Date; version: string; watermark: Date | null }[] = await this.dataSource.query(
      `SELECT clock_timestamp() AS now, (SELECT version FROM config_version WHERE id) AS version,
              (SELECT watermark FROM analysis_engine_state WHERE shard = 0) AS watermark`,
    );
    // Exposure rows written without an event (imports, repairs) count as news too: one index range per experiment.
    const defs = await this.definitions(Number(head.version));
    const [tail]: { safe: Date; news: boolean }[] = await this.dataSource.query(
      `WITH s AS (
         SELECT LEAST($1::timestamptz - $2 * interval '1 millisecond',
                      coalesce((SELECT min(xact_start) FROM pg_stat_activity
                                 WHERE datname = current_database() AND application_name = $3 AND xact_start IS NOT NULL), 'infinity'))
                - interval '1 millisecond' AS safe)
       SELECT s.safe,
              EXISTS (SELECT 1 FROM events WHERE received_at > $4 AND received_at <= s.safe)
              OR EXISTS (SELECT 1 FROM first_exposures WHERE experiment_key = ANY($5::text[]) AND received_at > $4 AND received_at <= s.safe) AS news
         FROM s`,
      [head.now, this.config.rollupLagMs, COLLECTOR_APPLICATION_NAME, head.watermark ?? new Date(0), defs.list.map((d) => d.key)],
    );
    return { defs, watermark: head.watermark, safe: tail.safe, news: tail.news };
  }

  /** Winsorized metrics whose caps are due: missing, another percentile, requested, or old with new data. */
  private async dueCaps(defs: AnalysisDefinition[], force: boolean): Promise<{ exp: string; metric: string; type: string; p: number }[]> {
    const now = Date.now();
    if (!force && now < this.nextCapsCheck) return [];
    this.nextCapsCheck = now + CAPS_CHECK_MS;
    const wanted = defs.flatMap((d) => d.metrics.filter(isWinsorized).map((m) => ({ exp: d.key, metric: m.key, type: m.type, p: m.winsorizePercentile ?? 1 })));
    if (wanted.length === 0) return [];
    const rows: { experiment_key: string; metric_key: string; percentile: number; rows_version: string; computed_at: Date; current: string | null }[] = await this.dataSource.query(
      `SELECT c.experiment_key, c.metric_key, c.percentile, c.rows_version, c.computed_at, w.rows_version AS current
         FROM analysis_caps c LEFT JOIN analysis_watermarks w ON w.experiment_key = c.experiment_key
        WHERE c.experiment_key = ANY($1::text[])`,
      [[...new Set(wanted.map((w) => w.exp))]],
    );
    const stored = new Map(rows.map((r) => [`${r.experiment_key}\u0000${r.metric_key}`, r]));
    const requested = this.capsRequested;
    return wanted.filter((w) => {
      if (!this.stateHashes.has(w.exp)) return false; // built (with its caps) by the tick that builds it
      if (requested === 'all' || requested.has(w.exp)) return true;
      const s = stored.get(`${w.exp}\u0000${w.metric}`);
      if (!s || s.percentile !== w.p) return true;
      const old = now - s.computed_at.getTime() >= this.config.capsIntervalSeconds * 1000;
      return old && s.current !== null && Number(s.current) > Number(s.rows_version);
    });
  }

  private async runTick(maxEvents: number | null): Promise<TickReport> {
    const started = Date.now();
    const p = await this.probe();
    const defs = p.defs;
    const wm = p.watermark ?? new Date(0);
    const needsBuild = defs.list.some((d) => this.stateHashes.get(d.key) !== defs.hashes.get(d.key));
    const capsForced = this.capsRequested === 'all' || this.capsRequested.size > 0;
    const caps = await this.dueCaps(defs.list, capsForced);
    const news = p.news && p.safe > wm;
    if (!news && !needsBuild && caps.length === 0) {
      // Idle: nothing written. The statistics are complete through `safe` all the same.
      this.verified = { watermark: wm.getTime(), through: p.safe };
      return { worked: false, dataThrough: p.watermark ? p.safe : null, changed: [], rebuilt: [], touchedUnits: 0, current: true, ms: Date.now() - started, steps: {} };
    }
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    let locked = false;
    try {
      // Session lock before the snapshot: a tick of another process that held it has committed.
      await qr.query(ENGINE_LOCK_SQL);
      locked = true;
      await qr.startTransaction('REPEATABLE READ');
      try {
        const report = await this.work(qr, defs, p.safe, maxEvents, caps);
        await qr.commitTransaction();
        if (this.capsRequested === 'all') this.capsRequested = new Set();
        else for (const c of caps) this.capsRequested.delete(c.exp);
        this.afterTick(report);
        report.ms = Date.now() - started;
        return report;
      } catch (err) {
        await qr.rollbackTransaction();
        throw err;
      }
    } finally {
      if (locked) await qr.query(ENGINE_UNLOCK_SQL).catch(() => undefined);
      await qr.release();
    }
  }

  private async work(
    qr: QueryRunner,
    defs: Definitions,
    safe: Date,
    maxEvents: number | null,
    caps: { exp: string; metric: string; type: string; p: number }[],
  ): Promise<TickReport> {
    const steps: Record<string, number> = {};
    let step = 0;
    const timed = async <T>(name: string, work: Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await work;
      } finally {
        steps[`${++step}.${name}`] = Math.round(performance.now() - t0);
      }
    };
    const q = (sql: string, params?: unknown[]) => timed(sql.trim().split(/\s+/).slice(0, 3).join(' '), qr.query(sql, params) as Promise<{ n?: number }[]>);
    const [state]: { watermark: Date | null }[] = await qr.query('SELECT watermark FROM analysis_engine_state WHERE shard = 0');
    const wm = state?.watermark ?? new Date(0);
    const stored: { experiment_key: string; definition_hash: string }[] = await qr.query(
      'SELECT experiment_key, definition_hash FROM analysis_watermarks WHERE experiment_key = ANY($1::text[])',
      [defs.list.map((d) => d.key)],
    );
    this.stateHashes = new Map(stored.map((r) => [r.experiment_key, r.definition_hash]));
    const rebuild = defs.list.filter((d) => this.stateHashes.get(d.key) !== defs.hashes.get(d.key));
    const incremental = defs.list.filter((d) => this.stateHashes.get(d.key) === defs.hashes.get(d.key));
    let target = safe > wm ? safe : wm;
    if (maxEvents !== null && target > wm) {
      const cut: { received_at: Date }[] = await qr.query(
        'SELECT received_at FROM events WHERE received_at > $1 AND received_at <= $2 ORDER BY received_at OFFSET $3 LIMIT 1',
        [wm, target, maxEvents],
      );
      if (cut.length) target = cut[0].received_at;
    }
    const news = target > wm;
    await qr.query(`SET LOCAL work_mem = '${rebuild.length ? '256MB' : '64MB'}'`);
    await qr.query(CREATE_TICK_UNITS);
    const all = [...incremental, ...rebuild];
    const arrays = metricArrays(all);
    const values = { ...arrays, wm, target, exps: incremental.map((d) => d.key), sign: -1, lo: new Date(0) };
    const run = (name: string, sql: string, extra: Record<string, unknown> = {}) => {
      const [text, params] = bind(sql, { ...values, ...extra });
      return timed(name, qr.query(text, params) as Promise<{ n?: number }[]>);
    };
    const rebuildKeys = rebuild.map((d) => d.key);
    if (rebuildKeys.length) for (const sql of DELETE_EXPERIMENT_STATE) await q(sql, [rebuildKeys]);
    const parts = { metrics: true, units: true, daily: true };
    const applyEvents = news && incremental.length > 0;
    // Units whose exposure row changed (new, earlier, forced) are recomputed from raw events:
    // their whole contribution goes out before their rows change and comes back after.
    if (applyEvents) await run('touch-exposed', TOUCH_EXPOSED);
    const [{ n: exposed }]: { n: number }[] = await qr.query('SELECT count(*)::int AS n FROM tick_units');
    if (exposed > 0) await run('subtract', contributionsSql('tick', parts, true), { sign: -1 });
    if (rebuildKeys.length) await run('touch-rebuilt', TOUCH_REBUILT, { exps: rebuildKeys });
    const [{ n: touched }]: { n: number }[] = await qr.query('SELECT count(*)::int AS n FROM tick_units');
    if (touched > ANALYZE_TICK_UNITS || (touched > 0 && applyEvents)) await qr.query('ANALYZE tick_units');
    if (touched > 0) {
      if (exposed > 0) for (const sql of DELETE_CHANGED) await run('delete-changed', sql);
      const [{ lo }]: { lo: Date | null }[] = await qr.query(MIN_CHANGED_FIRST_TS, [target]);
      if (lo) {
        const maxLookback = Math.max(0, ...all.flatMap((d) => d.metrics.map((m) => m.cupedLookbackDays)));
        await run('recompute', RECOMPUTE_CHANGED, { lo: new Date(lo.getTime() - (maxLookback + 1) * 86_400_000) });
      }
    }
    // Everybody else with new events: only the changed rows and their deltas (tick-delta-sql.ts).
    let applied: { experiment_key: string; units: number }[] = [];
    if (applyEvents) {
      applied = (await run('apply-events', applyEventsSql(touched > 0), metricArrays(incremental))) as unknown as { experiment_key: string; units: number }[];
    }
    const changedRows: { experiment_key: string }[] = touched > 0 ? await qr.query('SELECT DISTINCT experiment_key FROM tick_units') : [];
    const changed = [...new Set([...changedRows.map((r) => r.experiment_key), ...applied.map((r) => r.experiment_key), ...rebuildKeys])].sort();
    if (changed.length) await q(SAVE_EXPERIMENT_STATE, [changed, changed.map((k) => defs.hashes.get(k) ?? ''), target]);
    // Caps of rebuilt experiments come from their fresh rollups, before their statistics are added.
    const rebuiltCaps = rebuild.flatMap((d) => d.metrics.filter(isWinsorized).map((m) => ({ exp: d.key, metric: m.key, type: m.type, p: m.winsorizePercentile ?? 1 })));
    if (rebuiltCaps.length) await this.computeCaps(qr, rebuiltCaps);
    // Keyed lookups per touched unit unless the tick builds experiments (then it reads them all: joins).
    if (touched > 0) await run('add', contributionsSql('tick', parts, rebuildKeys.length === 0), { sign: 1 });
    // Scheduled or requested caps: new caps, then the metric's statistics again over every unit.
    const due = caps.filter((c) => defs.byKey.has(c.exp) && !rebuildKeys.includes(c.exp));
    if (due.length) {
      await this.computeCaps(qr, due);
      await q(DELETE_METRIC_STATS, [due.map((c) => c.exp), due.map((c) => c.metric)]);
      const k = { k_exp: due.map((c) => c.exp), k_metric: due.map((c) => c.metric), k_type: due.map((c) => c.type) };
      await run('recap', contributionsSql('experiments', { metrics: true, units: false, daily: false }), { ...k, exps: [...new Set(due.map((c) => c.exp))], sign: 1 });
      const extra = [...new Set(due.map((c) => c.exp))].filter((x) => !changed.includes(x));
      if (extra.length) {
        // rows_version moves (the statistics changed) but the watermark of their data does not.
        await qr.query('UPDATE analysis_watermarks SET rows_version = rows_version + 1, updated_at = now() WHERE experiment_key = ANY($1::text[])', [extra]);
        changed.push(...extra);
        changed.sort();
      }
    }
    if (target > wm || !state) await qr.query(SAVE_ENGINE_STATE, [target]);
    if (touched > ANALYZE_TABLES_UNITS) {
      // A build adds rows by the million: the next ticks' plans must not assume the tables are small.
      for (const table of ['analysis_units', 'unit_metric_rollups', 'unit_metric_daily', 'analysis_stats']) await qr.query(`ANALYZE ${table}`);
    }
    for (const k of changed) if (defs.hashes.has(k)) this.stateHashes.set(k, defs.hashes.get(k) ?? '');
    const touchedUnits = touched + applied.reduce((a, r) => a + r.units, 0);
    return { worked: true, dataThrough: target, changed, rebuilt: rebuildKeys, touchedUnits, current: target >= safe, ms: 0, steps };
  }

  private async computeCaps(qr: QueryRunner, caps: { exp: string; metric: string; type: string; p: number }[]): Promise<void> {
    await qr.query(COMPUTE_CAPS, [caps.map((c) => c.exp), caps.map((c) => c.metric), caps.map((c) => c.type), caps.map((c) => c.p)]);
  }

  /** Hands the changed experiments and their fresh statistics to the consumers, in their own chain. */
  private afterTick(report: TickReport): void {
    this.verified = null;
    if (this.consumers.length === 0 || report.changed.length === 0 || !report.dataThrough) return;
    const dataThrough = report.dataThrough;
    const defs = this.defs;
    this.consumerChain = this.consumerChain.then(async () => {
      try {
        const stats = await readStats(this.dataSource, report.changed, '');
        const changed: ChangedExperiment[] = [];
        for (const key of report.changed) {
          const definition = defs?.byKey.get(key);
          if (definition) changed.push({ definition, stats: stats.get(key)?.get('') ?? EMPTY_SLICE });
        }
        for (const c of this.consumers) {
          try {
            await c.onTick({ dataThrough, changed });
          } catch (err) {
            this.logger.error(`tick consumer ${c.name} failed: ${String(err)}`);
          }
        }
      } catch (err) {
        this.logger.error(`tick consumers failed: ${String(err)}`);
      }
    });
  }
}
