import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ExperimentDto, RolloutHistoryEntryDto, RolloutPlanDto, RolloutRevertTarget } from '@strata/contracts';
import { useState } from 'react';
import { ApiError, errorMessage } from '../api/client';
import { useRollout } from '../hooks/queries';
import { useApi, useCan } from '../hooks/session';
import { formatDateTime } from '../lib/format';
import { ConfirmDialog } from './Dialog';

type StepState = 'done' | 'current' | 'pending';

/** When each step last began: the newest history entry that moved the plan to it. */
function startedAt(history: RolloutHistoryEntryDto[], step: number): string | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (h.toStep === step && h.action !== 'pause' && h.action !== 'complete') return h.at;
  }
  return null;
}

function stateOf(plan: RolloutPlanDto, step: number): StepState {
  if (plan.status === 'completed') return 'done';
  if (plan.currentStep === null) return 'pending';
  if (step < plan.currentStep) return 'done';
  return step === plan.currentStep ? 'current' : 'pending';
}

function describeStep(s: RolloutPlanDto['steps'][number]): string {
  const waits: string[] = [];
  if (s.minDurationSeconds > 0)
    waits.push(s.minDurationSeconds % 3600 === 0 ? `${s.minDurationSeconds / 3600} h` : `${Math.round(s.minDurationSeconds / 60)} min`);
  if (s.minExposedUnits > 0) waits.push(`${s.minExposedUnits.toLocaleString('en-US')} units`);
  return waits.length ? `at least ${waits.join(' and ')}` : 'no minimum';
}

/** Parses "1, 5, 20, 50, 100" into increasing percentages, or says what is wrong. */
export function parseSteps(text: string): number[] | string {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return 'Give at least one step, e.g. 1, 5, 20, 50, 100.';
  if (parts.length > 20) return 'At most 20 steps.';
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p.replace(/%$/, ''));
    if (!Number.isFinite(n) || n <= 0 || n > 100) return `“${p}” is not a percentage between 0 and 100.`;
    if (out.length && n <= out[out.length - 1]) return 'Steps must increase.';
    out.push(n);
  }
  return out;
}

function CreatePlan({ experiment }: { experiment: ExperimentDto }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [steps, setSteps] = useState('1, 5, 20, 50, 100');
  const [hours, setHours] = useState('24');
  const [units, setUnits] = useState('1000');
  const [onHarm, setOnHarm] = useState<RolloutRevertTarget>('last_safe');
  const parsed = parseSteps(steps);
  const create = useMutation({
    mutationFn: () =>
      api.rollouts.create(experiment.key, {
        steps: (parsed as number[]).map((traffic) => ({
          traffic,
          minDurationSeconds: Math.round(Number(hours) * 3600),
          minExposedUnits: Math.round(Number(units)),
        })),
        onHarm,
      }),
    onSuccess: (plan) => {
      queryClient.setQueryData(['rollout', experiment.key], plan);
      void queryClient.invalidateQueries({ queryKey: ['experiment', experiment.key] });
    },
  });
  return (
    <form
      className="form"
      aria-label="Create rollout plan"
      onSubmit={(ev) => {
        ev.preventDefault();
        if (typeof parsed !== 'string') create.mutate();
      }}
    >
      <label htmlFor="rollout-steps">Steps (% of the layer, in order)</label>
      <input id="rollout-steps" value={steps} onChange={(ev) => setSteps(ev.target.value)} aria-describedby="rollout-steps-help" />
      <p
        id="rollout-steps-help"
        className={typeof parsed === 'string' ? 'field-error' : 'muted small'}
        role={typeof parsed === 'string' ? 'alert' : undefined}
      >
        {typeof parsed === 'string'
          ? parsed
          : 'The traffic goes to the first step at once; the engine advances each step when it has held its minimums with healthy guardrails.'}
      </p>
      <label htmlFor="rollout-hours">Minimum hours per step</label>
      <input id="rollout-hours" type="number" min="0" step="0.25" value={hours} onChange={(ev) => setHours(ev.target.value)} />
      <label htmlFor="rollout-units">Minimum exposed units per step</label>
      <input id="rollout-units" type="number" min="0" step="1" value={units} onChange={(ev) => setUnits(ev.target.value)} />
      <label htmlFor="rollout-on-harm">On harm or sample ratio mismatch, revert to</label>
      <select id="rollout-on-harm" value={onHarm} onChange={(ev) => setOnHarm(ev.target.value as RolloutRevertTarget)}>
        <option value="last_safe">the last safe step</option>
        <option value="zero">0 % (nobody)</option>
      </select>
      {create.error && (
        <p className="field-error" role="alert">
          {errorMessage(create.error)}
        </p>
      )}
      <button type="submit" className="btn btn-primary" disabled={typeof parsed === 'string' || create.isPending}>
        Create rollout plan
      </button>
    </form>
  );
}

/** The experiment's rollout plan as a timeline: steps, when each started, what is waited for, why it reverted. */
export function RolloutPanel({ experiment }: { experiment: ExperimentDto }) {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const plan = useRollout(experiment.key);
  const [confirmRevert, setConfirmRevert] = useState(false);
  const command = useMutation({
    mutationFn: (c: 'pause' | 'resume' | 'advance' | 'revert') => api.rollouts.command(experiment.key, c),
    onSuccess: (p) => {
      setConfirmRevert(false);
      queryClient.setQueryData(['rollout', experiment.key], p);
      void queryClient.invalidateQueries({ queryKey: ['experiment', experiment.key] });
      void queryClient.invalidateQueries({ queryKey: ['audit'] });
    },
  });
  const missing = plan.data === null || (plan.error instanceof ApiError && plan.error.status === 404);
  return (
    <div className="card section">
      <h2>{plan.data?.kind === 'ship' ? 'Staged ship' : 'Rollout'}</h2>
      {plan.isLoading && <p className="muted">Loading the rollout plan…</p>}
      {plan.error && !missing && <p className="field-error">{errorMessage(plan.error)}</p>}
      {missing && (
        <>
          <p className="muted">
            No rollout plan. A plan ramps this experiment step by step and reverts on guardrail harm or a sample ratio mismatch.
          </p>
          {can.write && experiment.status === 'running' && <CreatePlan experiment={experiment} />}
        </>
      )}
      {plan.data && <Timeline plan={plan.data} />}
      {plan.data && can.write && plan.data.status !== 'completed' && (
        <div className="actions" role="group" aria-label="Rollout controls">
          {plan.data.status === 'running' && (
            <button type="button" className="btn" onClick={() => command.mutate('pause')} disabled={command.isPending}>
              Pause
            </button>
          )}
          {(plan.data.status === 'paused' || plan.data.status === 'reverted') && (
            <button type="button" className="btn" onClick={() => command.mutate('resume')} disabled={command.isPending}>
              Resume
            </button>
          )}
          <button type="button" className="btn" onClick={() => command.mutate('advance')} disabled={command.isPending}>
            Advance now
          </button>
          {!(plan.data.status === 'reverted' && plan.data.currentStep === null) && (
            <button type="button" className="btn btn-danger" onClick={() => setConfirmRevert(true)} disabled={command.isPending}>
              Revert
            </button>
          )}
        </div>
      )}
      {confirmRevert && plan.data && (
        <ConfirmDialog
          title="Revert the rollout?"
          description={
            plan.data.kind === 'ship'
              ? shipRevertText(plan.data)
              : plan.data.onHarm === 'zero' ||
                  plan.data.lastSafeStep === null ||
                  plan.data.currentStep === null ||
                  plan.data.lastSafeStep >= plan.data.currentStep
                ? 'The traffic goes to 0 %: nobody new is assigned; the buckets return to the layer, and a later resume takes the same ones back.'
              : `The traffic goes back to step ${plan.data.lastSafeStep + 1} (${plan.data.steps[plan.data.lastSafeStep].traffic}%): the newest buckets are released; units in the kept ones stay, in their variant.`
          }
          confirmLabel="Revert"
          danger
          busy={command.isPending}
          error={command.error ? errorMessage(command.error) : null}
          onConfirm={() => command.mutate('revert')}
          onCancel={() => setConfirmRevert(false)}
        />
      )}
      {command.error && !confirmRevert && (
        <p className="field-error" role="alert">
          {errorMessage(command.error)}
        </p>
      )}
    </div>
  );
}

/** Where a staged ship's revert takes the share: the units it still covers keep the winner. */
function shipRevertText(plan: RolloutPlanDto): string {
  const toSafe = plan.onHarm !== 'zero' && plan.lastSafeStep !== null && plan.currentStep !== null && plan.lastSafeStep < plan.currentStep;
  return toSafe && plan.lastSafeStep !== null
    ? `The ship share goes back to step ${plan.lastSafeStep + 1} (${plan.steps[plan.lastSafeStep].traffic}% of targeted units): units the lower share covers keep the winner, the others see the default again.`
    : 'The ship share goes to 0 %: every targeted unit sees the default again until the plan resumes.';
}

function Timeline({ plan }: { plan: RolloutPlanDto }) {
  return (
    <>
      <p>
        <strong>
          {plan.status === 'completed'
            ? 'Completed'
            : plan.status === 'reverted'
              ? 'Reverted'
              : plan.status === 'paused'
                ? 'Paused'
                : 'Running'}
        </strong>
        {' — '}
        {plan.kind === 'ship'
          ? `the shipped winner goes to ${plan.traffic}% of targeted units now (the others see the default); ${plan.exposedUnits.toLocaleString('en-US')} units compared.`
          : `${plan.traffic}% of the layer now; ${plan.exposedUnits.toLocaleString('en-US')} units exposed.`}
      </p>
      {plan.status === 'reverted' && plan.revertReason && (
        <div className="banner banner-bad">
          <h3>Why it reverted</h3>
          <p>{plan.revertReason}</p>
        </div>
      )}
      <ol className="rollout-timeline" aria-label="Rollout steps">
        {plan.steps.map((s, i) => {
          const state = stateOf(plan, i);
          const started = startedAt(plan.history, i);
          return (
            <li key={i} aria-current={state === 'current' ? 'step' : undefined} className={`rollout-step rollout-step-${state}`}>
              <strong>
                Step {i + 1}: {s.traffic}%{plan.kind === 'ship' ? ' of targeted units get the winner' : ''}
              </strong>{' '}
              <span className="muted small">({describeStep(s)})</span>
              <div className="small">
                {state === 'done' ? 'done' : state === 'current' ? 'current' : 'not reached'}
                {started && <> · started {formatDateTime(started)}</>}
              </div>
              {state === 'current' && plan.waiting.messages.length > 0 && (
                <ul className="small">
                  {plan.waiting.messages.map((m) => (
                    <li key={m}>Waiting for {m}</li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
      {plan.findings.length > 0 && (
        <ul className="small" aria-label="Guardrail findings">
          {plan.findings.map((f) => (
            <li key={f.message}>{f.message}</li>
          ))}
        </ul>
      )}
      <details>
        <summary>History ({plan.history.length})</summary>
        <ol className="small">
          {plan.history.map((h, i) => (
            <li key={i}>
              {formatDateTime(h.at)} — {h.action} to {h.toStep === null ? '0 %' : `step ${h.toStep + 1}`} ({h.traffic}%) by {h.actor}
              {h.reason ? `: ${h.reason}` : ''}
            </li>
          ))}
        </ol>
      </details>
    </>
  );
}
