import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ExperimentAlertDto, GuardrailStatusDto, SrmDto } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { systemActor } from '../../common/guards/principal';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { ExperimentService } from '../experiment/experiment.service';
import { buildGuardrails, buildSrm } from '../result/results-builder';
import { ResultService } from '../result/result.service';
import { RollupService } from '../result/rollup.service';
import { WebhookService } from './webhook.service';

/** Named in the audit log for what the guardrail job changes. */
const GUARDRAILS = systemActor('guardrails');

/** Guardrails use the nominal alpha: one sequential test per guardrail × treatment, valid at every peek. */
const GUARDRAIL_ALPHA = 0.05;

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

/** Findings of one experiment: guardrail harm (see buildGuardrails) and SRM (p < 0.001). */
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
      details: { counts: srm.counts, expectedWeights: srm.expectedWeights, chiSquare: srm.chiSquare, pValue: srm.pValue },
    });
  }
  return out;
}

/**
 * Checks running experiments every STRATA_GUARDRAIL_INTERVAL_SECONDS. With auto-stop on, a
 * finding stops the experiment (assignment stops at once), is written to the audit log with
 * its numbers and posted to the webhook; with auto-stop off it becomes an alert on the
 * experiment, added once per finding.
 */
@Injectable()
export class GuardrailService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(GuardrailService.name);
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly results: ResultService,
    private readonly rollups: RollupService,
    private readonly experiments: ExperimentService,
    private readonly audit: AuditService,
    private readonly webhook: WebhookService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled) return;
    this.timer = setInterval(() => void this.runOnce().catch((err: unknown) => this.logger.error(`guardrail job failed: ${String(err)}`)), this.config.guardrailIntervalSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async runOnce(): Promise<GuardrailRunReport> {
    const report: GuardrailRunReport = { checked: 0, stopped: [], alerted: [] };
    if (this.running) return report;
    this.running = true;
    try {
      const rows: { key: string }[] = await this.dataSource.query(`SELECT key FROM experiments WHERE status = 'running' ORDER BY key`);
      for (const { key } of rows) {
        try {
          const outcome = await this.check(key);
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

  private async check(key: string): Promise<'ok' | 'stopped' | 'alerted' | 'known'> {
    await this.rollups.advanceUntilCurrent(key);
    const snap = await this.results.snapshot(key);
    const def = snap.definition;
    if (def.status !== 'running') return 'ok';
    const found = findings(buildGuardrails(def, snap.aggregates, GUARDRAIL_ALPHA), buildSrm(def, snap.units));
    if (found.length === 0) return 'ok';
    const dataThrough = snap.dataThrough?.toISOString() ?? null;
    const numbers = found.map((f) => (f.kind === 'srm' ? `SRM p = ${Number(f.details.pValue).toExponential(2)} (counts ${JSON.stringify(f.details.counts)})` : String(f.details.summary)));
    const reason = `Auto-stopped by guardrails: ${numbers.join('; ')}`;
    if (def.autoStop) {
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
    const fresh = found.filter((f) => !def.alerts.some((a) => a.kind === f.kind && a.message === f.message));
    if (fresh.length === 0) return 'known';
    for (const f of fresh) {
      const alert: ExperimentAlertDto = { kind: f.kind, message: f.message, at: new Date().toISOString(), details: { ...f.details, dataThrough } };
      await this.experiments.addAlert(GUARDRAILS, key, alert);
    }
    await this.webhook.notify({ type: 'experiment.alert', experiment: key, reason: numbers.join('; '), findings: fresh, at: new Date().toISOString() });
    return 'alerted';
  }
}
