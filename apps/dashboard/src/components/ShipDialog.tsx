import type { ExperimentDto, RolloutRevertTarget, ShipExperimentRequest } from '@strata/contracts';
import { ROLLOUT_MAX_STEP_SECONDS } from '@strata/contracts';
import { useState, type InputHTMLAttributes } from 'react';
import { describeShip, describeStagedShip } from '../lib/traffic';
import { ConfirmDialog } from './Dialog';
import { parseSteps } from './RolloutPanel';
import { ShipWarning } from './ShipWarning';

type Mode = 'everyone' | 'stages';
type Field = 'steps' | 'hours' | 'units';
/** In the order the fields appear: the first one with an error gets the focus. */
const FIELDS: readonly Field[] = ['steps', 'hours', 'units'];
const FIELD_ID: Record<Field, string> = { steps: 'ship-steps', hours: 'ship-hours', units: 'ship-units' };
const MAX_HOURS = ROLLOUT_MAX_STEP_SECONDS / 3600;
const MAX_UNITS = 1_000_000_000;

export interface StagedShipForm {
  steps: string;
  hours: string;
  units: string;
  onHarm: RolloutRevertTarget;
}

/** What is wrong with each field of the staged form, in words (empty: nothing). */
export function validateStagedShip(f: StagedShipForm): Partial<Record<Field, string>> {
  const errors: Partial<Record<Field, string>> = {};
  const steps = parseSteps(f.steps);
  if (typeof steps === 'string') errors.steps = steps;
  const hours = Number(f.hours);
  if (f.hours.trim() === '' || !Number.isFinite(hours) || hours < 0)
    errors.hours = 'Give the minimum time per step in hours, 0 or more (e.g. 24).';
  else if (hours > MAX_HOURS) errors.hours = `A step lasts at most 90 days (${MAX_HOURS.toLocaleString('en-US')} hours).`;
  const units = Number(f.units);
  if (f.units.trim() === '' || !Number.isInteger(units) || units < 0)
    errors.units = 'Give the minimum exposed units per step as a whole number, 0 or more (e.g. 1000).';
  else if (units > MAX_UNITS) errors.units = `At most ${MAX_UNITS.toLocaleString('en-US')} units per step.`;
  return errors;
}

/**
 * The API body of a staged ship. The minimums hold on every step below 100 %: at 100 % everyone in
 * targeting has the winner, no comparison is logged any more, so a step there only completes the plan.
 */
export function stagedShipBody(variant: string, f: StagedShipForm): ShipExperimentRequest {
  const steps = parseSteps(f.steps) as number[];
  const seconds = Math.round(Number(f.hours) * 3600);
  const units = Number(f.units);
  return {
    variant,
    rollout: {
      steps: steps.map((traffic) =>
        traffic < 100
          ? { traffic, minDurationSeconds: seconds, minExposedUnits: units }
          : { traffic, minDurationSeconds: 0, minExposedUnits: 0 },
      ),
      onHarm: f.onHarm,
    },
  };
}

interface ShipDialogProps {
  experiment: ExperimentDto;
  busy: boolean;
  error: string | null;
  onShip: (body: ShipExperimentRequest) => void;
  onCancel: () => void;
}

/** Ship a variant to everyone in targeting (the default), or in stages by a `ship` rollout plan. */
export function ShipDialog({ experiment: e, busy, error, onShip, onCancel }: ShipDialogProps) {
  const [variant, setVariant] = useState(e.variants[1]?.key ?? e.variants[0]?.key ?? '');
  const [mode, setMode] = useState<Mode>('everyone');
  const [form, setForm] = useState<StagedShipForm>({ steps: '10, 50, 100', hours: '24', units: '1000', onHarm: 'last_safe' });
  // Errors show once a ship was attempted, then follow the typing.
  const [tried, setTried] = useState(false);
  const variantName = e.variants.find((v) => v.key === variant)?.name ?? variant;
  const staged = mode === 'stages';
  const errors = staged && tried ? validateStagedShip(form) : {};
  const set = (patch: Partial<StagedShipForm>) => setForm((f) => ({ ...f, ...patch }));

  const confirm = () => {
    if (!staged) {
      onShip({ variant });
      return;
    }
    setTried(true);
    const found = validateStagedShip(form);
    const first = FIELDS.find((k) => found[k]);
    if (first) {
      document.getElementById(FIELD_ID[first])?.focus();
      return;
    }
    onShip(stagedShipBody(variant, form));
  };

  const steps = parseSteps(form.steps);
  const input = (field: Field, label: string, props: InputHTMLAttributes<HTMLInputElement>) => (
    <div className="field">
      <label htmlFor={FIELD_ID[field]}>{label}</label>
      <input
        id={FIELD_ID[field]}
        value={form[field]}
        onChange={(ev) => set({ [field]: ev.target.value })}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={errors[field] ? `${FIELD_ID[field]}-error` : undefined}
        {...props}
      />
      {errors[field] && (
        <p className="field-error" id={`${FIELD_ID[field]}-error`}>
          {errors[field]}
        </p>
      )}
    </div>
  );

  return (
    <ConfirmDialog
      title="Ship a variant"
      description={
        staged && typeof steps !== 'string'
          ? describeStagedShip(variantName, variant, steps, form.onHarm)
          : describeShip(variantName, variant)
      }
      confirmLabel={staged ? `Ship ${variant} in stages` : `Ship ${variant}`}
      busy={busy}
      error={error}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <div className="field">
        <label htmlFor="ship-variant">Variant to ship</label>
        <select id="ship-variant" value={variant} onChange={(ev) => setVariant(ev.target.value)}>
          {e.variants.map((v) => (
            <option key={v.key} value={v.key}>
              {v.name} ({v.key})
            </option>
          ))}
        </select>
      </div>
      <fieldset className="fieldset">
        <legend>How to ship</legend>
        <label className="checkbox">
          <input type="radio" name="ship-mode" value="everyone" checked={!staged} onChange={() => setMode('everyone')} />
          Ship to everyone
        </label>
        <label className="checkbox">
          <input type="radio" name="ship-mode" value="stages" checked={staged} onChange={() => setMode('stages')} />
          Ship in stages
        </label>
      </fieldset>
      {staged && (
        <fieldset className="fieldset" aria-label="Stages">
          {input('steps', 'Steps (% of targeted units given the winner, in order)', {})}
          <div className="field-row">
            {input('hours', 'Minimum hours per step', { type: 'number', min: '0', step: '0.25' })}
            {input('units', 'Minimum exposed units per step', { type: 'number', min: '0', step: '1' })}
          </div>
          <div className="field">
            <label htmlFor="ship-on-harm">On guardrail harm, the share goes</label>
            <select id="ship-on-harm" value={form.onHarm} onChange={(ev) => set({ onHarm: ev.target.value as RolloutRevertTarget })}>
              <option value="last_safe">back to the last safe step</option>
              <option value="zero">to 0 % (everyone sees the default)</option>
            </select>
          </div>
          <p className="hint">The minimums hold on each step below 100 %; a step at 100 % completes the ship.</p>
        </fieldset>
      )}
      <ShipWarning experiment={e} variant={variant} />
    </ConfirmDialog>
  );
}
