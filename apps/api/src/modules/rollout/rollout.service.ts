import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SHIP_EXPOSURE_PREFIX, type createRolloutSchema, type ExperimentDto, type RolloutKind, type RolloutPlanDto, type shipExperimentSchema } from '@strata/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import type { z } from 'zod';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { systemActor, type Principal } from '../../common/guards/principal';
import { Clock } from '../../common/time/clock';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import type { SliceStats } from '../analysis/stats-store';
import type { TickConsumer, TickContext } from '../analysis/tick-consumer';
import { AuditService } from '../audit/audit.service';
import { ExperimentService } from '../experiment/experiment.service';
import { WebhookService } from '../guardrail/webhook.service';
import { observeExperiment, observeShip, type ExperimentObservation } from './rollout-checks';
import {
  command,
  evaluate,
  freshFindings,
  healthOf,
  RolloutCommandError,
  startPlan,
  trafficAt,
  waitingFor,
  type Command,
  type Outcome,
  type PlanState,
  type Transition,
} from './rollout-machine';
import { activePlans, appendHistory, deletePlan, insertPlan, loadPlan, readHistory, savePlan, type StoredPlan } from './rollout-store';

/** Named in the audit log and the plan's history for what the engine changes. */
const ROLLOUTS = systemActor('rollouts');

type CreateRollout = z.output<typeof createRolloutSchema>;
type ShipRequest = z.output<typeof shipExperimentSchema>;

export interface RolloutRunReport {
  checked: number;
  changed: { experiment: string; action: string; toStep: number | null }[];
}

function summary(s: PlanState): Record<string, unknown> {
  return {
    status: s.status,
    currentStep: s.currentStep,
    lastSafeStep: s.lastSafeStep,
    traffic: trafficAt(s.steps, s.currentStep),
    stepStartedAt: new Date(s.stepStartedAt).toISOString(),
  };
}

/**
 * Progressive rollouts: a tick consumer (after the guardrail consumer, on the same fresh
 * statistics) that advances a plan's step once its minimums are met with healthy guardrails and
 * reverts it on harm or SRM; plus the commands people and pipelines send. Every step change is
 * one transaction — the experiment's traffic (bucket ledger: units already in stay in, a ramp
 * down releases the newest buckets, a ramp up takes the experiment's own back first), the plan,
 * its history and the audit entries — followed by a webhook notice. Time comes from `Clock`.
 */
@Injectable()
export class RolloutService implements TickConsumer, OnModuleInit {
  readonly name = 'rollouts';
  private readonly logger = new Logger(RolloutService.name);
  private sweeping = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly engine: AnalysisEngineService,
    private readonly experiments: ExperimentService,
    private readonly audit: AuditService,
    private readonly webhook: WebhookService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.engine.register(this);
  }

  /** A step's minimum duration ends without new events too: the engine sweeps every active plan once per tick interval. */
  sweep(): Promise<RolloutRunReport> {
    return this.runOnce();
  }

  async onTick(tick: TickContext): Promise<void> {
    // A traffic plan reads its experiment's statistics; a ship plan those of `ship:<key>`.
    const traffic = new Map<string, SliceStats>();
    const ships = new Map<string, SliceStats>();
    for (const c of tick.changed) {
      const k = c.definition.key;
      if (k.startsWith(SHIP_EXPOSURE_PREFIX)) ships.set(k.slice(SHIP_EXPOSURE_PREFIX.length), c.stats);
      else traffic.set(k, c.stats);
    }
    if (traffic.size === 0 && ships.size === 0) return;
    for (const p of await activePlans(this.dataSource, [...traffic.keys(), ...ships.keys()])) {
      const stats = (p.kind === 'ship' ? ships : traffic).get(p.key);
      if (stats !== undefined) await this.check(p.key, p.kind, stats);
    }
  }

  /** Every active plan, on the stored statistics. */
  async runOnce(): Promise<RolloutRunReport> {
    const report: RolloutRunReport = { checked: 0, changed: [] };
    if (this.sweeping) return report;
    this.sweeping = true;
    try {
      for (const p of await activePlans(this.dataSource)) {
        report.checked++;
        const t = await this.check(p.key, p.kind);
        if (t) report.changed.push({ experiment: p.key, action: t.action, toStep: t.toStep });
      }
      return report;
    } finally {
      this.sweeping = false;
    }
  }

  /** A traffic plan is judged on its experiment's guardrails and SRM; a ship plan on the winner-vs-default harm test. */
  private observe(key: string, kind: RolloutKind, stats?: SliceStats): Promise<ExperimentObservation> {
    return kind === 'ship' ? observeShip(this.dataSource, key, stats) : observeExperiment(this.dataSource, key, stats);
  }

  private async check(key: string, kind: RolloutKind, stats?: SliceStats): Promise<Transition | null> {
    try {
      const seen = await this.observe(key, kind, stats);
      return await this.apply(ROLLOUTS, key, seen, (plan, obs) => evaluate(plan, obs));
    } catch (err) {
      this.logger.error(`rollout check of ${key} failed: ${String(err)}`);
      return null;
    }
  }

  async create(principal: Principal, key: string, request: CreateRollout): Promise<RolloutPlanDto> {
    const seen = await observeExperiment(this.dataSource, key);
    const now = this.clock.now();
    const transition = await this.dataSource.transaction(async (m) => {
      const status = await this.lockExperiment(m, key);
      if (status !== 'running') {
        throw new AppException(
          'rollout_conflict',
          `Experiment "${key}" is ${status}: a rollout plan needs a running experiment (start it first).`,
          [{ path: 'status', message: `is ${status}`, status }],
        );
      }
      if (await loadPlan(m, key, true))
        throw new AppException('rollout_exists', `Experiment "${key}" already has a rollout plan; delete it first to make a new one.`);
      const state = startPlan(request.steps, request.onHarm, now.getTime(), seen.exposedUnits);
      const t: Transition = {
        action: 'create',
        fromStep: null,
        toStep: 0,
        traffic: request.steps[0].traffic,
        reason: request.reason ?? 'plan created',
        details: { exposedUnits: seen.exposedUnits, steps: request.steps },
      };
      await insertPlan(m, key, state, seen.exposedUnits, now);
      await this.experiments.rampIn(m, principal, key, t.traffic, 'experiment.rollout_ramp');
      await appendHistory(m, key, t, principal.name, now);
      await this.auditCreate(m, principal, key, state, {});
      return t;
    });
    this.notify(key, principal, transition, 'running', now);
    return this.get(key);
  }

  /**
   * POST /v1/experiments/:key/ship. Without `rollout` the experiment ships as it always did (to
   * everyone in targeting, or to `traffic` percent of them, a staged ship moved by hand with
   * /ramp). With `rollout` it ships to the first step's share at once and a `ship` plan takes it
   * on from there, under the guardrails, in one transaction with its history and audit entries.
   */
  async ship(principal: Principal, key: string, request: ShipRequest): Promise<ExperimentDto> {
    const rollout = request.rollout;
    if (rollout === undefined) return this.experiments.ship(principal, key, request.variant, request.traffic);
    const now = this.clock.now();
    const done = await this.dataSource.transaction(async (m) => {
      await this.lockExperiment(m, key);
      if (await loadPlan(m, key, true))
        throw new AppException('rollout_exists', `Experiment "${key}" already has a rollout plan; delete it first to ship it by a plan.`);
      const first = rollout.steps[0].traffic;
      const experiment = await this.experiments.shipIn(m, principal, key, request.variant, first);
      const state = startPlan(rollout.steps, rollout.onHarm, now.getTime(), 0);
      const t: Transition = {
        action: 'create',
        fromStep: null,
        toStep: 0,
        traffic: first,
        reason: rollout.reason ?? `staged ship of "${request.variant}"`,
        details: { exposedUnits: 0, steps: rollout.steps, variant: request.variant },
      };
      await insertPlan(m, key, state, 0, now, 'ship');
      await appendHistory(m, key, t, principal.name, now);
      await this.auditCreate(m, principal, key, state, { kind: 'ship', variant: request.variant });
      return { experiment, t };
    });
    this.notify(key, principal, done.t, 'running', now);
    return done.experiment;
  }

  /** The audit entry of a new plan (`extra`: what kind of plan, for a ship plan its variant). */
  private auditCreate(m: EntityManager, principal: Principal, key: string, state: PlanState, extra: Record<string, unknown>): Promise<void> {
    return this.audit.record(m, principal, {
      action: 'rollout.create',
      entityType: 'experiment',
      entityKey: key,
      before: null,
      after: { ...summary(state), ...extra, steps: state.steps, onHarm: state.onHarm },
    });
  }

  async get(key: string): Promise<RolloutPlanDto> {
    const plan = await this.find(key);
    if (!plan) throw new NotFoundException('rollout plan', key);
    return plan;
  }

  /** The plan, or null when the experiment has none. */
  async find(key: string): Promise<RolloutPlanDto | null> {
    const plan = await loadPlan(this.dataSource, key);
    if (!plan) return null;
    return this.toDto(plan, (await this.currentBuckets(this.dataSource.manager, key, plan.kind)) / 100, await readHistory(this.dataSource, key));
  }

  /** Deletes the plan and its history; the experiment keeps its traffic. */
  async remove(principal: Principal, key: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await this.lockExperiment(m, key);
      const plan = await loadPlan(m, key, true);
      if (!plan) throw new NotFoundException('rollout plan', key);
      await deletePlan(m, key);
      await this.audit.record(m, principal, {
        action: 'rollout.delete',
        entityType: 'experiment',
        entityKey: key,
        before: summary(plan),
        after: null,
      });
    });
  }

  /** pause, resume, advance (now), skip, revert — by a person or a pipeline. */
  async command(principal: Principal, key: string, cmd: Command): Promise<RolloutPlanDto> {
    const seen = await this.observe(key, (await loadPlan(this.dataSource, key))?.kind ?? 'traffic');
    await this.apply(principal, key, seen, (plan, obs) => {
      try {
        return command(plan, cmd, obs);
      } catch (err) {
        if (err instanceof RolloutCommandError)
          throw new AppException('rollout_conflict', err.message, [{ path: '', message: err.message, ...err.details }]);
        throw err;
      }
    });
    return this.get(key);
  }

  /** Locks experiment, then plan (always this order), decides, and stores the outcome with its traffic change. */
  private async apply(
    principal: Principal,
    key: string,
    seen: ExperimentObservation,
    decide: (plan: PlanState, obs: { now: number; exposedUnits: number; findings: ExperimentObservation['findings'] }) => Outcome,
  ): Promise<Transition | null> {
    const now = this.clock.now();
    const done = await this.dataSource.transaction(async (m) => {
      await this.lockExperiment(m, key);
      const plan = await loadPlan(m, key, true);
      if (!plan) throw new NotFoundException('rollout plan', key);
      const out = decide(plan, { now: now.getTime(), exposedUnits: seen.exposedUnits, findings: seen.findings });
      const t = out.transition;
      if (t === null) {
        // Nothing moved: the row changes only when what the check saw did (no write per idle tick).
        if (
          plan.exposedUnits !== seen.exposedUnits ||
          JSON.stringify(plan.findings.map((f) => f.message)) !== JSON.stringify(seen.findings.map((f) => f.message))
        ) {
          await savePlan(m, key, plan, seen, now);
        }
        return null;
      }
      // A ship plan's steps are the ship share: rampIn sets it on a staged ship.
      if (Math.round(t.traffic * 100) !== (await this.currentBuckets(m, key, plan.kind)))
        await this.experiments.rampIn(m, principal, key, t.traffic, 'experiment.rollout_ramp');
      await savePlan(m, key, out.state, seen, now);
      await appendHistory(m, key, t, principal.name, now);
      await this.audit.record(m, principal, {
        action: `rollout.${t.action}`,
        entityType: 'experiment',
        entityKey: key,
        before: summary(plan),
        after: { ...summary(out.state), reason: t.reason, details: t.details },
      });
      return { t, status: out.state.status };
    });
    if (done === null) return null;
    if (done.t.action === 'revert') this.logger.warn(`${key}: rollout reverted to ${done.t.traffic}%: ${done.t.reason}`);
    this.notify(key, principal, done.t, done.status, now);
    return done.t;
  }

  /** The experiment's traffic (traffic plan) or ship share (ship plan), in buckets of 10,000. */
  private async currentBuckets(m: EntityManager, key: string, kind: RolloutKind): Promise<number> {
    const rows: { traffic_buckets: number; ship_buckets: number | null }[] = await m.query('SELECT traffic_buckets, ship_buckets FROM experiments WHERE key = $1', [key]);
    return (kind === 'ship' ? rows[0]?.ship_buckets : rows[0]?.traffic_buckets) ?? 0;
  }

  private async lockExperiment(m: EntityManager, key: string): Promise<string> {
    const rows: { status: string }[] = await m.query('SELECT status FROM experiments WHERE key = $1 FOR UPDATE', [key]);
    if (!rows[0]) throw new NotFoundException('experiment', key);
    return rows[0].status;
  }

  /** Webhook notices never hold up a command or the next check (WebhookService never throws). */
  private notify(key: string, principal: Principal, t: Transition, status: string, at: Date): void {
    void this.webhook.notify({
      type: t.action === 'revert' ? 'rollout.reverted' : 'rollout.step_changed',
      experiment: key,
      action: t.action,
      fromStep: t.fromStep,
      toStep: t.toStep,
      traffic: t.traffic,
      status,
      reason: t.reason,
      actor: principal.name,
      details: t.details,
      at: at.toISOString(),
    });
  }

  private toDto(plan: StoredPlan, traffic: number, history: RolloutPlanDto['history']): RolloutPlanDto {
    const obs = { now: this.clock.now().getTime(), exposedUnits: plan.exposedUnits, findings: plan.findings };
    return {
      experiment: plan.experiment,
      kind: plan.kind,
      steps: [...plan.steps],
      onHarm: plan.onHarm,
      status: plan.status,
      health: healthOf(plan, obs),
      currentStep: plan.currentStep,
      lastSafeStep: plan.lastSafeStep,
      traffic,
      stepStartedAt: new Date(plan.stepStartedAt).toISOString(),
      exposedUnits: plan.exposedUnits,
      unitsAtStepStart: plan.unitsAtStepStart,
      waiting: waitingFor(plan, obs),
      findings: freshFindings(plan, plan.findings),
      revertReason: plan.revertReason,
      checkedAt: plan.checkedAt?.toISOString() ?? null,
      history,
      createdAt: plan.createdAt.toISOString(),
      updatedAt: plan.updatedAt.toISOString(),
    };
  }
}
