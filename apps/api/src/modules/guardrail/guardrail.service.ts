import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HOLDOUT_EXPOSURE_PREFIX, SHIP_EXPOSURE_PREFIX, type ExperimentAlertDto, type GuardrailStatusDto, type SrmDto } from '@strata/contracts';
import { advanceSrmState, type SrmState } from '@strata/stats';
import type { DataSource, EntityManager } from 'typeorm';
import { systemActor } from '../../common/guards/principal';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { ExperimentService } from '../experiment/experiment.service';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { readStats, EMPTY_SLICE, type SliceStats } from '../analysis/stats-store';
import type { TickConsumer, TickContext } from '../analysis/tick-consumer';
import { loadAnalysisDefinition, type AnalysisDefinition } from '../result/analysis-definition';
import { buildSrm } from '../result/results-builder';
import { SequentialStateService } from '../result/sequential-state.service';
import { WebhookService } from './webhook.service';

/** Named in the audit log for what the guardrail job changes. */
const GUARDRAILS = systemActor('guardrails');

/** Guardrails use the nominal alpha: one sequential test per guardrail × treatment, valid at every peek. */
export const GUARDRAIL_ALPHA = 0.05;

export interface GuardrailFinding {
  kind: 'guardrail_harm' | 'srm';
  /** Stable text (no changing numbers), so repeated runs do not repeat alerts. */
  message: string;
  details: Record<string, unknown>;
}

export interface GuardrailRunReport {
  checked: number;
  stopped: string[];
  alerted: string[];
}

/** Where the anytime-valid SRM state of an experiment is kept (analysis_sequential_state). */
export const SRM_STATE_ROW = { metric: '', variant: '', configHash: 'srm#dirichlet-multinomial' } as const;

/** The stored anytime-valid SRM state of an experiment, or null before its first check. */
export async function readSrmState(db: DataSource | EntityManager, experiment: string): Promise<SrmState | null> {
  const rows: { state: SrmState }[] = await db.query(
    'SELECT state FROM analysis_sequential_state WHERE experiment_key = $1 AND metric_key = $2 AND variant_key = $3 AND config_hash = $4',
    [experiment, SRM_STATE_ROW.metric, SRM_STATE_ROW.variant, SRM_STATE_ROW.configHash],
  );
  return rows[0]?.state ?? null;
}

/** The stored anytime-valid SRM states of many experiments (one query). */
export async function readSrmStates(db: DataSource | EntityManager, experiments: string[]): Promise<Map<string, SrmState>> {
  if (experiments.length === 0) return new Map();
  const rows: { experiment_key: string; state: SrmState }[] = await db.query(
    'SELECT experiment_key, state FROM analysis_sequential_state WHERE experiment_key = ANY($1::text[]) AND metric_key = $2 AND variant_key = $3 AND config_hash = $4',
    [experiments, SRM_STATE_ROW.metric, SRM_STATE_ROW.variant, SRM_STATE_ROW.configHash],
  );
  return new Map(rows.map((r) => [r.experiment_key, r.state]));
}

/**
 * One guardrail SRM check: today's counts folded into the stored state. Counts that went down (a
 * rebuild from raw events) cannot continue the sequence: a new one starts.
 */
export function nextSrmState(prev: SrmState | null, def: AnalysisDefinition, srm: SrmDto): SrmState {
  const counts = def.variants.map((v) => srm.counts[v.key] ?? 0);
  const weights = def.variants.map((v) => v.weight);
  const continued = prev && prev.counts.length === counts.length && prev.counts.some((c, i) => counts[i] < c) ? null : prev;
  return advanceSrmState(continued, counts, weights);
}

/** The results' SRM with the anytime-valid test's numbers (method, params, sequentialPValue). */
export function withSequentialSrm(srm: SrmDto | null, state: SrmState | null): SrmDto | null {
  if (!srm || !state) return srm;
  return {
    ...srm,
    method: state.method,
    params: { level: state.level, concentration: state.concentration, maxLogE: state.maxLogE, logE: state.logE, checks: state.checks, sequentialFlagged: state.flagged ? 1 : 0 },
    sequentialPValue: state.pValue,
  };
}

/** Findings of one experiment: guardrail harm (see guardrailsFromMetrics) and SRM (flagged by the anytime-valid test when it ran). */
export function findings(guardrails: GuardrailStatusDto[], srm: SrmDto | null): GuardrailFinding[] {
  const out: GuardrailFinding[] = guardrails
    .filter((g) => g.status === 'harm')
    .map((g) => ({
      kind: 'guardrail_harm',
      message: `Guardrail ${g.metric} shows harm in ${g.variant} beyond the ${(g.threshold * 100).toFixed(2)}% threshold`,
      details: { metric: g.metric, variant: g.variant, threshold: g.threshold, harmCi: g.harmCi, summary: g.message },
    }));
  if (srm?.flagged) {
    out.push({
      kind: 'srm',
      message: 'Sample ratio mismatch: the observed split does not match the configured weights',
      details: { counts: srm.counts, expectedWeights: srm.expectedWeights, chiSquare: srm.chiSquare, pValue: srm.pValue, method: srm.method ?? 'srm-chi-square', sequentialPValue: srm.sequentialPValue ?? null },
    });
  }
  return out;
}

/**
 * An experiment's findings: harm per guardrail × treatment (`guardrails`, from the folded sequences
 * for the guardrail consumer, fresh at GUARDRAIL_ALPHA for rollout steps) and SRM, flagged by the
 * anytime-valid test once `state` holds its sequence (by chi-square before).
 */
export function experimentFindings(guardrails: GuardrailStatusDto[], srm: SrmDto | null, state: SrmState | null): GuardrailFinding[] {
  const sequential = withSequentialSrm(srm, state);
  return findings(guardrails, sequential && state ? { ...sequential, flagged: state.flagged } : srm);
}

/**
 * Guardrails and SRM on the analysis engine's fresh statistics: a per-tick consumer, so every
 * running experiment a tick changed is checked right after that tick (a harmful one is stopped
 * within one tick of the evidence). `runOnce()` sweeps every running experiment from the stored
 * statistics too (every STRATA_GUARDRAIL_INTERVAL_SECONDS): a safety net for findings that need
 * no new data, e.g. auto-stop switched on. With auto-stop on, a finding stops the experiment
 * (assignment stops at once), is written to the audit log with its numbers and posted to the
 * webhook; with auto-stop off it becomes an alert on the experiment, added once per finding.
 */
@Injectable()
export class GuardrailService implements TickConsumer, OnModuleInit {
  readonly name = 'guardrails';
  private readonly logger = new Logger(GuardrailService.name);
  private running = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly engine: AnalysisEngineService,
    private readonly experiments: ExperimentService,
    private readonly audit: AuditService,
    private readonly webhook: WebhookService,
    private readonly sequential: SequentialStateService,
  ) {}

  onModuleInit(): void {
    this.engine.register(this);
  }

  /** The engine sweeps every running experiment every STRATA_GUARDRAIL_INTERVAL_SECONDS. */
  get sweepSeconds(): number {
    return this.config.guardrailIntervalSeconds;
  }

  sweep(): Promise<GuardrailRunReport> {
    return this.runOnce();
  }

  /** Per tick: the changed running experiments, on the statistics the tick just wrote. */
  async onTick(tick: TickContext): Promise<void> {
    for (const c of tick.changed) {
      // A holdout's comparison (`holdout:<key>`) is read, never stopped: it is no experiment; a staged
      // ship's (`ship:<key>`) is judged by its rollout plan.
      const k = c.definition.key;
      if (c.definition.status !== 'running' || k.startsWith(HOLDOUT_EXPOSURE_PREFIX) || k.startsWith(SHIP_EXPOSURE_PREFIX)) continue;
      try {
        await this.check(c.definition, c.stats, tick.dataThrough);
      } catch (err) {
        this.logger.error(`guardrail check of ${c.definition.key} failed: ${String(err)}`);
      }
    }
  }

  /** Every running experiment, from the stored statistics (after one catch-up tick). */
  async runOnce(): Promise<GuardrailRunReport> {
    const report: GuardrailRunReport = { checked: 0, stopped: [], alerted: [] };
    if (this.running) return report;
    this.running = true;
    try {
      const tick = await this.engine.catchUp();
      await this.engine.settled();
      const rows: { key: string }[] = await this.dataSource.query(`SELECT key FROM experiments WHERE status = 'running' ORDER BY key`);
      const stats = await readStats(this.dataSource, rows.map((r) => r.key), '');
      for (const { key } of rows) {
        try {
          const def = await loadAnalysisDefinition(this.dataSource.manager, key);
          if (def.status !== 'running') continue;
          const outcome = await this.check(def, stats.get(key)?.get('') ?? EMPTY_SLICE, tick.dataThrough);
          report.checked++;
          if (outcome === 'stopped') report.stopped.push(key);
          if (outcome === 'alerted') report.alerted.push(key);
        } catch (err) {
          this.logger.error(`guardrail check of ${key} failed: ${String(err)}`);
        }
      }
      return report;
    } finally {
      this.running = false;
    }
  }

  private async check(def: AnalysisDefinition, stats: SliceStats, through: Date | null): Promise<'ok' | 'stopped' | 'alerted' | 'known'> {
    const key = def.key;
    const srm = buildSrm(def, stats.units);
    const srmState = srm ? await this.advanceSrm(def, srm) : null;
    // Checked after every tick: only the anytime-valid test keeps its 0.001 false-alarm rate over all those peeks.
    // Harm on the folded sequences (running intersection), the same intervals the results page shows.
    const found = experimentFindings(await this.sequential.guardrails(def, stats, through), srm, srmState);
    if (found.length === 0) return 'ok';
    // The definition may be a tick old: act only on the experiment as it is now.
    const current = await loadAnalysisDefinition(this.dataSource.manager, key);
    if (current.status !== 'running') return 'ok';
    const dataThrough = through?.toISOString() ?? null;
    const numbers = found.map((f) =>
      f.kind === 'srm'
        ? `SRM ${f.details.sequentialPValue === null ? 'chi-square' : 'anytime-valid'} p = ${Number(f.details.sequentialPValue ?? f.details.pValue).toExponential(2)} (counts ${JSON.stringify(f.details.counts)})`
        : String(f.details.summary),
    );
    const reason = `Auto-stopped by guardrails: ${numbers.join('; ')}`;
    if (current.autoStop) {
      await this.experiments.stop(GUARDRAILS, key, reason.slice(0, 1000), 'experiment.auto_stop');
      await this.dataSource.transaction((manager) =>
        this.audit.record(manager, GUARDRAILS, {
          action: 'experiment.guardrail_finding',
          entityType: 'experiment',
          entityKey: key,
          before: null,
          after: { autoStopped: true, dataThrough, findings: found },
        }),
      );
      this.logger.warn(`${key}: ${reason}`);
      await this.webhook.notify({ type: 'experiment.auto_stopped', experiment: key, reason, findings: found, at: new Date().toISOString() });
      return 'stopped';
    }
    const fresh = found.filter((f) => !current.alerts.some((a) => a.kind === f.kind && a.message === f.message));
    if (fresh.length === 0) return 'known';
    for (const f of fresh) {
      const alert: ExperimentAlertDto = { kind: f.kind, message: f.message, at: new Date().toISOString(), details: { ...f.details, dataThrough } };
      await this.experiments.addAlert(GUARDRAILS, key, alert);
    }
    await this.webhook.notify({ type: 'experiment.alert', experiment: key, reason: numbers.join('; '), findings: fresh, at: new Date().toISOString() });
    return 'alerted';
  }

  /** Folds the current counts into the experiment's anytime-valid SRM state and stores it. */
  private async advanceSrm(def: AnalysisDefinition, srm: SrmDto): Promise<SrmState> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sequential:${def.key}`]);
      const state = nextSrmState(await readSrmState(m, def.key), def, srm);
      await m.query(
        `INSERT INTO analysis_sequential_state (experiment_key, metric_key, variant_key, config_hash, state) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (experiment_key, metric_key, variant_key, config_hash) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
        [def.key, SRM_STATE_ROW.metric, SRM_STATE_ROW.variant, SRM_STATE_ROW.configHash, JSON.stringify(state)],
      );
      return state;
    });
  }
}
