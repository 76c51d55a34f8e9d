import type {
  RolloutAction,
  RolloutFindingDto,
  RolloutHistoryEntryDto,
  RolloutKind,
  RolloutRevertTarget,
  RolloutStatus,
  RolloutStepDto,
} from '@strata/contracts';
import type { Queryable } from '../analysis/stats-store';
import type { PlanState, Transition } from './rollout-machine';

/** A plan row: the machine's state plus what the last check saw. */
export interface StoredPlan extends PlanState {
  experiment: string;
  kind: RolloutKind;
  exposedUnits: number;
  findings: RolloutFindingDto[];
  checkedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface PlanRow {
  experiment_key: string;
  kind: RolloutKind;
  steps: RolloutStepDto[];
  on_harm: RolloutRevertTarget;
  status: RolloutStatus;
  current_step: number | null;
  last_safe_step: number | null;
  step_started_at: Date;
  units_at_step_start: string;
  exposed_units: string;
  acknowledged: string[];
  findings: RolloutFindingDto[];
  revert_reason: string | null;
  checked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toPlan(r: PlanRow): StoredPlan {
  return {
    experiment: r.experiment_key,
    kind: r.kind,
    steps: r.steps,
    onHarm: r.on_harm,
    status: r.status,
    currentStep: r.current_step,
    lastSafeStep: r.last_safe_step,
    stepStartedAt: r.step_started_at.getTime(),
    unitsAtStepStart: Number(r.units_at_step_start),
    exposedUnits: Number(r.exposed_units),
    acknowledged: r.acknowledged,
    findings: r.findings,
    revertReason: r.revert_reason,
    checkedAt: r.checked_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The plan of an experiment (`forUpdate`: locked until the transaction ends), or null. */
export async function loadPlan(db: Queryable, experiment: string, forUpdate = false): Promise<StoredPlan | null> {
  const rows = (await db.query(`SELECT * FROM rollout_plans WHERE experiment_key = $1${forUpdate ? ' FOR UPDATE' : ''}`, [
    experiment,
  ])) as PlanRow[];
  return rows[0] ? toPlan(rows[0]) : null;
}

/** Plans the engine still drives (running or paused): traffic plans of running experiments, ship plans of shipped ones. */
export async function activePlans(db: Queryable, among?: readonly string[]): Promise<{ key: string; kind: RolloutKind }[]> {
  return (await db.query(
    `SELECT p.experiment_key AS key, p.kind FROM rollout_plans p JOIN experiments e ON e.key = p.experiment_key
     WHERE p.status IN ('running', 'paused') AND e.status = CASE p.kind WHEN 'ship' THEN 'shipped' ELSE 'running' END
       AND ($1::text[] IS NULL OR p.experiment_key = ANY($1::text[]))
     ORDER BY p.experiment_key`,
    [among ? [...among] : null],
  )) as { key: string; kind: RolloutKind }[];
}

export async function insertPlan(db: Queryable, experiment: string, s: PlanState, exposedUnits: number, at: Date, kind: RolloutKind = 'traffic'): Promise<void> {
  await db.query(
    `INSERT INTO rollout_plans (experiment_key, steps, on_harm, status, current_step, last_safe_step, step_started_at, units_at_step_start, exposed_units, acknowledged, revert_reason, checked_at, created_at, updated_at, kind)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13)`,
    [
      experiment,
      JSON.stringify(s.steps),
      s.onHarm,
      s.status,
      s.currentStep,
      s.lastSafeStep,
      new Date(s.stepStartedAt),
      s.unitsAtStepStart,
      exposedUnits,
      JSON.stringify(s.acknowledged),
      s.revertReason,
      at,
      kind,
    ],
  );
}

export async function savePlan(
  db: Queryable,
  experiment: string,
  s: PlanState,
  seen: { exposedUnits: number; findings: readonly RolloutFindingDto[] },
  at: Date,
): Promise<void> {
  await db.query(
    `UPDATE rollout_plans SET status = $2, current_step = $3, last_safe_step = $4, step_started_at = $5, units_at_step_start = $6, exposed_units = $7,
       acknowledged = $8, findings = $9, revert_reason = $10, checked_at = $11, updated_at = $11
     WHERE experiment_key = $1`,
    [
      experiment,
      s.status,
      s.currentStep,
      s.lastSafeStep,
      new Date(s.stepStartedAt),
      s.unitsAtStepStart,
      seen.exposedUnits,
      JSON.stringify(s.acknowledged),
      JSON.stringify(seen.findings),
      s.revertReason,
      at,
    ],
  );
}

export async function deletePlan(db: Queryable, experiment: string): Promise<void> {
  await db.query('DELETE FROM rollout_history WHERE experiment_key = $1', [experiment]);
  await db.query('DELETE FROM rollout_plans WHERE experiment_key = $1', [experiment]);
}

export async function appendHistory(db: Queryable, experiment: string, t: Transition, actor: string, at: Date): Promise<void> {
  await db.query(
    'INSERT INTO rollout_history (experiment_key, at, action, from_step, to_step, traffic_buckets, reason, actor, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [experiment, at, t.action, t.fromStep, t.toStep, Math.round(t.traffic * 100), t.reason, actor, JSON.stringify(t.details)],
  );
}

/** The plan's history, oldest first (at most the newest 500 entries). */
export async function readHistory(db: Queryable, experiment: string): Promise<RolloutHistoryEntryDto[]> {
  const rows = (await db.query(
    `SELECT * FROM (SELECT id, at, action, from_step, to_step, traffic_buckets, reason, actor, details FROM rollout_history WHERE experiment_key = $1 ORDER BY id DESC LIMIT 500) h ORDER BY id`,
    [experiment],
  )) as {
    at: Date;
    action: RolloutAction;
    from_step: number | null;
    to_step: number | null;
    traffic_buckets: number;
    reason: string | null;
    actor: string;
    details: Record<string, unknown>;
  }[];
  return rows.map((r) => ({
    at: r.at.toISOString(),
    action: r.action,
    fromStep: r.from_step,
    toStep: r.to_step,
    traffic: r.traffic_buckets / 100,
    reason: r.reason,
    actor: r.actor,
    details: r.details,
  }));
}
