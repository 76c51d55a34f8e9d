import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { Telemetry } from '../telemetry/telemetry';

export interface GuardrailNotice {
  type: 'experiment.auto_stopped' | 'experiment.alert';
  experiment: string;
  reason: string;
  findings: unknown[];
  at: string;
}

/** Every rollout step change (modules/rollout): a revert, or any other move of the plan. */
export interface RolloutNotice {
  type: 'rollout.reverted' | 'rollout.step_changed';
  experiment: string;
  action: string;
  fromStep: number | null;
  toStep: number | null;
  /** The experiment's traffic after the change, percent. */
  traffic: number;
  status: string;
  reason: string;
  actor: string;
  details: Record<string, unknown>;
  at: string;
}

export type WebhookNotice = GuardrailNotice | RolloutNotice;

/** Bounded retries: 1 try + 4 retries with exponential backoff (base, 2×, 4×, 8×), 5 s timeout each. */
export const WEBHOOK_ATTEMPTS = 5;
export const WEBHOOK_TIMEOUT_MS = 5000;

/**
 * Posts guardrail and rollout notices to STRATA_WEBHOOK_URL. Never throws: a webhook outage must not stop
 * the guardrail job from protecting the next experiment.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger(WebhookService.name);
  /** Base backoff; tests shorten it. */
  backoffMs = 500;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(Telemetry) private readonly telemetry: Telemetry | null = null,
  ) {}

  /** Every guardrail action passes here (with or without a webhook URL): the metrics count it. */
  async notify(notice: WebhookNotice, url = this.config.webhookUrl): Promise<boolean> {
    if (notice.type === 'experiment.auto_stopped' || notice.type === 'experiment.alert')
      this.telemetry?.observeGuardrailAction(notice.type === 'experiment.auto_stopped' ? 'auto_stop' : 'alert');
    else if (notice.type === 'rollout.reverted') this.telemetry?.observeGuardrailAction('rollout_revert');
    if (!url) return false;
    const body = JSON.stringify(notice);
    for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'strata-guardrails' },
          body,
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        if (res.ok) return true;
        this.logger.warn(`webhook answered ${res.status} (attempt ${attempt}/${WEBHOOK_ATTEMPTS})`);
      } catch (err) {
        this.logger.warn(`webhook failed: ${String(err)} (attempt ${attempt}/${WEBHOOK_ATTEMPTS})`);
      }
      if (attempt < WEBHOOK_ATTEMPTS) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
    }
    return false;
  }
}
