import type {
  RolloutAction,
  RolloutFindingDto,
  RolloutHealth,
  RolloutRevertTarget,
  RolloutStatus,
  RolloutStepDto,
  RolloutWaitingDto,
} from '@strata/contracts';

/**
 * The rollout state machine: pure functions over plain data, no I/O and no clock of its own
 * (`now` comes in with the observation). RolloutService loads a plan, observes the experiment
 * (exposed units, guardrail and SRM findings), calls `evaluate` or `command`, and stores what
 * comes out together with the traffic change, the audit entry and the webhook notice.
 *
 *   running ──minimums met, healthy──▶ running (next step) … ──last step met──▶ completed
 *      │  ▲                                   │
 *    pause│ │resume        new finding (harm, SRM)
 *      ▼  │                                   ▼
 *    paused ───────────── revert ─────▶ reverted ──resume / advance / skip──▶ running
 */

export interface PlanState {
  steps: readonly RolloutStepDto[];
  onHarm: RolloutRevertTarget;
  status: RolloutStatus;
  /** 0-based; null = 0 % (reverted to zero). */
  currentStep: number | null;
  lastSafeStep: number | null;
  /** Epoch ms. */
  stepStartedAt: number;
  unitsAtStepStart: number;
  /** Finding messages a person has seen and chose to go on with: they no longer revert. */
  acknowledged: readonly string[];
  revertReason: string | null;
}

/** A new plan at its first step, started `now` (epoch ms) with `exposedUnits` already exposed. */
export function startPlan(steps: readonly RolloutStepDto[], onHarm: RolloutRevertTarget, now: number, exposedUnits: number): PlanState {
  return { steps, onHarm, status: 'running', currentStep: 0, lastSafeStep: null, stepStartedAt: now, unitsAtStepStart: exposedUnits, acknowledged: [], revertReason: null };
}

export interface Observation {
  /** Epoch ms. */
  now: number;
  /** Units exposed in the whole experiment so far. */
  exposedUnits: number;
  findings: readonly RolloutFindingDto[];
}

export interface Transition {
  action: RolloutAction;
  fromStep: number | null;
  toStep: number | null;
  /** Percent of the layer after the transition. */
  traffic: number;
  reason: string;
  details: Record<string, unknown>;
}

export interface Outcome {
  state: PlanState;
  /** Null when nothing changed. */
  transition: Transition | null;
}

export type Command =
  | { kind: 'pause'; reason?: string }
  | { kind: 'resume'; reason?: string }
  | { kind: 'advance'; reason?: string }
  | { kind: 'skip'; toStep: number; reason?: string }
  | { kind: 'revert'; to?: RolloutRevertTarget; reason?: string };

/** A command that does not fit the plan's state (rendered as 409 rollout_conflict). */
export class RolloutCommandError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function trafficAt(steps: readonly RolloutStepDto[], step: number | null): number {
  return step === null ? 0 : (steps[step]?.traffic ?? 0);
}

/** Findings that are not acknowledged: only these revert. */
export function freshFindings(state: PlanState, findings: readonly RolloutFindingDto[]): RolloutFindingDto[] {
  return findings.filter((f) => !state.acknowledged.includes(f.message));
}

/** What the current step still waits for. */
export function waitingFor(state: PlanState, obs: Pick<Observation, 'now' | 'exposedUnits'>): RolloutWaitingDto {
  const messages: string[] = [];
  if (state.status === 'completed') return { secondsLeft: 0, unitsLeft: 0, messages };
  if (state.status === 'reverted') {
    messages.push(`reverted (${state.revertReason ?? 'by hand'}): waiting for a person to resume, advance or skip`);
    return { secondsLeft: 0, unitsLeft: 0, messages };
  }
  const step = state.currentStep === null ? undefined : state.steps[state.currentStep];
  const secondsLeft = step ? Math.max(0, Math.ceil((state.stepStartedAt + step.minDurationSeconds * 1000 - obs.now) / 1000)) : 0;
  const unitsLeft = step ? Math.max(0, step.minExposedUnits - (obs.exposedUnits - state.unitsAtStepStart)) : 0;
  if (state.status === 'paused') messages.push('paused: waiting for a resume');
  if (secondsLeft > 0) messages.push(`minimum duration: ${secondsLeft} s to go`);
  if (unitsLeft > 0) messages.push(`minimum exposed units: ${unitsLeft} more`);
  return { secondsLeft, unitsLeft, messages };
}

/** healthy: completed, or the step's minimums are met with no finding; reverted; waiting otherwise. */
export function healthOf(state: PlanState, obs: Observation): RolloutHealth {
  if (state.status === 'reverted') return 'reverted';
  if (state.status === 'completed') return 'healthy';
  if (state.status === 'paused') return 'waiting';
  const w = waitingFor(state, obs);
  return w.secondsLeft === 0 && w.unitsLeft === 0 && freshFindings(state, obs.findings).length === 0 ? 'healthy' : 'waiting';
}

function stepDetails(state: PlanState, obs: Observation): Record<string, unknown> {
  return {
    exposedUnits: obs.exposedUnits,
    unitsInStep: obs.exposedUnits - state.unitsAtStepStart,
    secondsInStep: Math.max(0, Math.floor((obs.now - state.stepStartedAt) / 1000)),
  };
}

function moveTo(state: PlanState, obs: Observation, toStep: number | null, patch: Partial<PlanState>): PlanState {
  return { ...state, ...patch, currentStep: toStep, stepStartedAt: obs.now, unitsAtStepStart: obs.exposedUnits };
}

/** The outcome of going from `state` to `next`: one transition from the current step to `next`'s, at `next`'s traffic. */
function step(state: PlanState, next: PlanState, action: RolloutAction, reason: string, details: Record<string, unknown>): Outcome {
  return {
    state: next,
    transition: {
      action,
      fromStep: state.currentStep,
      toStep: next.currentStep,
      traffic: trafficAt(next.steps, next.currentStep),
      reason,
      details,
    },
  };
}

function revertTarget(state: PlanState, to: RolloutRevertTarget): number | null {
  if (to === 'zero') return null;
  // The last safe step is below the current one; a plan reverted at its first step goes to 0 %.
  const safe = state.lastSafeStep;
  return safe !== null && (state.currentStep === null || safe < state.currentStep) ? safe : null;
}

function revert(
  state: PlanState,
  obs: Observation,
  to: RolloutRevertTarget,
  action: RolloutAction,
  reason: string,
  findings: readonly RolloutFindingDto[],
): Outcome {
  const toStep = revertTarget(state, to);
  const next = moveTo(state, obs, toStep, { status: 'reverted', revertReason: reason });
  return step(state, next, action, reason, { ...stepDetails(state, obs), revertTo: to, findings });
}

/** Goes to `toStep` (or completes past the last step), running, acknowledging the findings seen now. */
function forward(state: PlanState, obs: Observation, toStep: number, action: RolloutAction, reason: string, safe: boolean): Outcome {
  const acknowledged = [...new Set([...state.acknowledged, ...obs.findings.map((f) => f.message)])];
  const lastSafeStep = safe && state.currentStep !== null ? state.currentStep : state.lastSafeStep;
  if (toStep >= state.steps.length) {
    // lastSafeStep stays the step below: a revert of a completed plan goes there.
    return step(state, { ...state, status: 'completed', acknowledged }, 'complete', reason, stepDetails(state, obs));
  }
  return step(
    state,
    moveTo(state, obs, toStep, { status: 'running', lastSafeStep, acknowledged }),
    action,
    reason,
    stepDetails(state, obs),
  );
}

/**
 * One automatic check (after a tick or a sweep): a running plan reverts on a fresh finding,
 * advances when the step's minimums are met, completes after its last step; otherwise nothing.
 */
export function evaluate(state: PlanState, obs: Observation): Outcome {
  if (state.status !== 'running') return { state, transition: null };
  const fresh = freshFindings(state, obs.findings);
  if (fresh.length > 0) {
    const reason = `guardrails: ${fresh.map((f) => f.message).join('; ')}`;
    return revert(state, obs, state.onHarm, 'revert', reason.slice(0, 1000), fresh);
  }
  const w = waitingFor(state, obs);
  if (w.secondsLeft > 0 || w.unitsLeft > 0) return { state, transition: null };
  const from = state.currentStep ?? -1;
  const nextStep = from + 1;
  const reason =
    nextStep >= state.steps.length
      ? `last step held its minimums with healthy guardrails`
      : `step ${from} held its minimums with healthy guardrails`;
  return forward(state, obs, nextStep, 'advance', reason, true);
}

/** A person's (or a pipeline's) command; throws RolloutCommandError when it does not fit. */
export function command(state: PlanState, cmd: Command, obs: Observation): Outcome {
  const by = (what: string) => cmd.reason ?? what;
  const refuse = (allowed: RolloutStatus[]): never => {
    throw new RolloutCommandError(`Cannot ${cmd.kind} a rollout that is ${state.status} (allowed from: ${allowed.join(', ')}).`, {
      status: state.status,
      allowed,
    });
  };
  switch (cmd.kind) {
    case 'pause': {
      if (state.status !== 'running') refuse(['running']);
      return step(state, { ...state, status: 'paused' }, 'pause', by('paused by hand'), stepDetails(state, obs));
    }
    case 'resume': {
      if (state.status === 'paused') {
        return step(state, { ...state, status: 'running' }, 'resume', by('resumed by hand'), stepDetails(state, obs));
      }
      if (state.status !== 'reverted') refuse(['paused', 'reverted']);
      // After a revert: run again from the step it reverted to (step 0 after a revert to 0 %).
      return forward(state, obs, state.currentStep ?? 0, 'resume', by('resumed by hand after a revert'), false);
    }
    case 'advance': {
      if (state.status === 'completed') refuse(['running', 'paused', 'reverted']);
      return forward(state, obs, state.currentStep === null ? 0 : state.currentStep + 1, 'advance', by('advanced by hand'), false);
    }
    case 'skip': {
      if (state.status === 'completed') refuse(['running', 'paused', 'reverted']);
      if (cmd.toStep >= state.steps.length) {
        throw new RolloutCommandError(`The plan has steps 0–${state.steps.length - 1}; there is no step ${cmd.toStep}.`, {
          toStep: cmd.toStep,
          steps: state.steps.length,
        });
      }
      if (cmd.toStep === state.currentStep)
        throw new RolloutCommandError(`The rollout is at step ${cmd.toStep} already.`, { toStep: cmd.toStep });
      return forward(state, obs, cmd.toStep, 'skip', by(`skipped to step ${cmd.toStep} by hand`), false);
    }
    case 'revert': {
      if (state.status === 'reverted' && (cmd.to ?? state.onHarm) !== 'zero') refuse(['running', 'paused', 'completed']);
      if (state.status === 'reverted' && state.currentStep === null) refuse(['running', 'paused', 'completed']);
      return revert(state, obs, cmd.to ?? state.onHarm, 'revert', by('reverted by hand'), []);
    }
  }
}
