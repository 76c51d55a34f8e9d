import type { RolloutFindingDto, RolloutStepDto } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { command, evaluate, healthOf, RolloutCommandError, waitingFor, type Observation, type PlanState } from './rollout-machine';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const STEPS: RolloutStepDto[] = [
  { traffic: 1, minDurationSeconds: 3600, minExposedUnits: 100 },
  { traffic: 5, minDurationSeconds: 3600, minExposedUnits: 100 },
  { traffic: 20, minDurationSeconds: 3600, minExposedUnits: 100 },
  { traffic: 100, minDurationSeconds: 0, minExposedUnits: 0 },
];
const HARM: RolloutFindingDto = {
  kind: 'guardrail_harm',
  message: 'Guardrail errors shows harm in treatment',
  details: { harmCi: [0.01, 0.2] },
};
const SRM: RolloutFindingDto = { kind: 'srm', message: 'Sample ratio mismatch', details: {} };

function plan(patch: Partial<PlanState> = {}): PlanState {
  return {
    steps: STEPS,
    onHarm: 'last_safe',
    status: 'running',
    currentStep: 0,
    lastSafeStep: null,
    stepStartedAt: T0,
    unitsAtStepStart: 0,
    acknowledged: [],
    revertReason: null,
    ...patch,
  };
}
const at = (hours: number, exposedUnits: number, findings: RolloutFindingDto[] = []): Observation => ({
  now: T0 + hours * HOUR,
  exposedUnits,
  findings,
});

describe('rollout state machine', () => {
  it('waits for both the minimum duration and the minimum exposed units of a step', () => {
    expect(evaluate(plan(), at(0.5, 500)).transition).toBeNull();
    expect(evaluate(plan(), at(2, 99)).transition).toBeNull();
    expect(waitingFor(plan(), at(0.5, 40))).toEqual({
      secondsLeft: 1800,
      unitsLeft: 60,
      messages: ['minimum duration: 1800 s to go', 'minimum exposed units: 60 more'],
    });
    const out = evaluate(plan(), at(1, 100));
    expect(out.transition).toMatchObject({
      action: 'advance',
      fromStep: 0,
      toStep: 1,
      traffic: 5,
      details: { exposedUnits: 100, unitsInStep: 100, secondsInStep: 3600 },
    });
    expect(out.state).toMatchObject({
      status: 'running',
      currentStep: 1,
      lastSafeStep: 0,
      stepStartedAt: T0 + HOUR,
      unitsAtStepStart: 100,
    });
  });

  it('counts only the units exposed during the current step', () => {
    const s = plan({ currentStep: 1, stepStartedAt: T0, unitsAtStepStart: 1000 });
    expect(evaluate(s, at(5, 1099)).transition).toBeNull();
    expect(evaluate(s, at(5, 1100)).transition?.toStep).toBe(2);
  });

  it('walks a healthy plan through every step to completed', () => {
    let s = plan();
    const seen: (number | null)[] = [];
    for (let h = 1; h <= 10 && s.status === 'running'; h++) {
      const out = evaluate(s, at(h, h * 1000));
      if (out.transition) seen.push(out.transition.toStep);
      s = out.state;
    }
    expect(seen).toEqual([1, 2, 3, 3]);
    expect(s.status).toBe('completed');
    expect(healthOf(s, at(11, 11_000))).toBe('healthy');
  });

  it('reverts on harm to the last safe step, with the findings and the numbers', () => {
    const s = plan({ currentStep: 2, lastSafeStep: 1, unitsAtStepStart: 500 });
    const out = evaluate(s, at(0.2, 800, [HARM]));
    expect(out.transition).toMatchObject({
      action: 'revert',
      fromStep: 2,
      toStep: 1,
      traffic: 5,
      details: { unitsInStep: 300, revertTo: 'last_safe', findings: [HARM] },
    });
    expect(out.transition?.reason).toContain('Guardrail errors shows harm');
    expect(out.state).toMatchObject({ status: 'reverted', currentStep: 1, revertReason: out.transition?.reason });
    expect(healthOf(out.state, at(0.3, 800, [HARM]))).toBe('reverted');
    // A reverted plan does nothing by itself.
    expect(evaluate(out.state, at(10, 10_000)).transition).toBeNull();
  });

  it('reverts to 0 % when the plan says so, and at the first step whatever it says', () => {
    expect(evaluate(plan({ onHarm: 'zero', currentStep: 2, lastSafeStep: 1 }), at(0, 0, [SRM])).transition).toMatchObject({
      toStep: null,
      traffic: 0,
    });
    expect(evaluate(plan(), at(0, 0, [SRM])).transition).toMatchObject({ toStep: null, traffic: 0 });
  });

  it('reverts even when the minimums are not met, and a finding beats advancing', () => {
    expect(evaluate(plan(), at(0.01, 1, [HARM])).transition?.action).toBe('revert');
    expect(evaluate(plan(), at(5, 5000, [HARM])).transition?.action).toBe('revert');
  });

  it('pauses and resumes by hand; a paused plan never advances', () => {
    const paused = command(plan(), { kind: 'pause', reason: 'deploy freeze' }, at(0.5, 10));
    expect(paused.transition).toMatchObject({ action: 'pause', reason: 'deploy freeze', toStep: 0, traffic: 1 });
    expect(evaluate(paused.state, at(5, 5000)).transition).toBeNull();
    expect(healthOf(paused.state, at(5, 5000))).toBe('waiting');
    expect(() => command(paused.state, { kind: 'pause' }, at(5, 5000))).toThrow(RolloutCommandError);
    const resumed = command(paused.state, { kind: 'resume' }, at(5, 5000));
    expect(resumed.state.status).toBe('running');
    expect(evaluate(resumed.state, at(5, 5000)).transition?.toStep).toBe(1);
  });

  it('advances now by hand without the minimums, not marking the step safe', () => {
    const out = command(plan({ lastSafeStep: null }), { kind: 'advance' }, at(0.1, 3));
    expect(out.transition).toMatchObject({ action: 'advance', fromStep: 0, toStep: 1, traffic: 5, reason: 'advanced by hand' });
    expect(out.state.lastSafeStep).toBeNull();
    const last = command(plan({ currentStep: 3 }), { kind: 'advance' }, at(0.1, 3));
    expect(last.transition?.action).toBe('complete');
    expect(() => command(last.state, { kind: 'advance' }, at(0.2, 3))).toThrow(/completed/);
  });

  it('skips to a named step and refuses steps the plan does not have', () => {
    expect(command(plan(), { kind: 'skip', toStep: 3 }, at(0, 0)).transition).toMatchObject({ action: 'skip', toStep: 3, traffic: 100 });
    expect(() => command(plan(), { kind: 'skip', toStep: 4 }, at(0, 0))).toThrow(/no step 4/);
    expect(() => command(plan(), { kind: 'skip', toStep: 0 }, at(0, 0))).toThrow(/already/);
  });

  it('after a revert, a resume acknowledges the findings seen then: only new ones revert again', () => {
    const reverted = evaluate(plan({ currentStep: 1, lastSafeStep: 0 }), at(1, 100, [HARM])).state;
    expect(reverted).toMatchObject({ status: 'reverted', currentStep: 0 });
    const resumed = command(reverted, { kind: 'resume' }, at(2, 200, [HARM]));
    expect(resumed.state).toMatchObject({
      status: 'running',
      currentStep: 0,
      acknowledged: [HARM.message],
      stepStartedAt: T0 + 2 * HOUR,
      unitsAtStepStart: 200,
    });
    expect(evaluate(resumed.state, at(2.5, 250, [HARM])).transition).toBeNull();
    expect(evaluate(resumed.state, at(2.5, 250, [HARM, SRM])).transition).toMatchObject({ action: 'revert', details: { findings: [SRM] } });
    // Resumed after a revert to 0 %: from step 0.
    const zero = evaluate(plan({ onHarm: 'zero' }), at(0, 0, [SRM])).state;
    expect(command(zero, { kind: 'resume' }, at(1, 0, [SRM])).transition).toMatchObject({
      action: 'resume',
      fromStep: null,
      toStep: 0,
      traffic: 1,
    });
  });

  it('reverts by hand to the last safe step or to zero; a completed plan reverts to the step below its last', () => {
    expect(command(plan({ currentStep: 2, lastSafeStep: 1 }), { kind: 'revert', reason: 'pager' }, at(0, 0)).transition).toMatchObject({
      toStep: 1,
      traffic: 5,
      reason: 'pager',
    });
    expect(command(plan({ currentStep: 2, lastSafeStep: 1 }), { kind: 'revert', to: 'zero' }, at(0, 0)).transition).toMatchObject({
      toStep: null,
      traffic: 0,
    });
    let s = plan({ currentStep: 2, lastSafeStep: 1 });
    s = evaluate(s, at(2, 1000)).state;
    s = evaluate(s, at(3, 2000)).state;
    expect(s).toMatchObject({ status: 'completed', currentStep: 3, lastSafeStep: 2 });
    expect(command(s, { kind: 'revert' }, at(4, 3000)).transition).toMatchObject({ fromStep: 3, toStep: 2, traffic: 20 });
    // Reverted to zero already: nothing further down.
    const zero = command(plan(), { kind: 'revert', to: 'zero' }, at(0, 0)).state;
    expect(() => command(zero, { kind: 'revert', to: 'zero' }, at(0, 0))).toThrow(RolloutCommandError);
  });
});
