import { parseValueInput, VALUE_TYPES, type ValueType } from '@strata/contracts';
import { FieldError, hasFieldError } from './FieldError';

export interface DraftVariant {
  id: string;
  key: string;
  name: string;
  /** Kept as text while typing; parsed on submit. */
  weight: string;
  /** The variant's value as typed (JSON for boolean, number and json; plain text for string). */
  value: string;
}

/** The values part of the form: one type for every variant, and the default for units not in the experiment. */
export interface DraftValues {
  /** '' = the variants carry no values. */
  valueType: ValueType | '';
  defaultValue: string;
}

/** The problem with one typed value, or null: shown beside the field as the person types. */
export function valueInputProblem(type: ValueType | '', text: string): string | null {
  if (type === '') return null;
  const parsed = parseValueInput(type, text);
  return 'error' in parsed ? parsed.error : null;
}

/** The first value problem of the form, for the submit check; null when fine. */
export function valuesProblem(variants: DraftVariant[], values: DraftValues): string | null {
  if (values.valueType === '') return null;
  for (let i = 0; i < variants.length; i++) {
    const p = valueInputProblem(values.valueType, variants[i]?.value ?? '');
    if (p !== null) return `Variant ${i + 1} value: ${p}.`;
  }
  const p = valueInputProblem(values.valueType, values.defaultValue);
  return p === null ? null : `Default value: ${p}.`;
}

const TOLERANCE = 1e-6;

export function weightSum(variants: DraftVariant[]): number {
  return variants.reduce((s, v) => s + (Number(v.weight) || 0), 0);
}

/** A client-side check so people see the problem before the API does; null when fine. */
export function weightsProblem(variants: DraftVariant[]): string | null {
  if (variants.length < 2) return 'An experiment needs at least 2 variants (the first is control).';
  const bad = variants.findIndex((v) => !(Number(v.weight) > 0 && Number(v.weight) <= 1));
  if (bad >= 0) return `Variant ${bad + 1} needs a weight between 0 and 1.`;
  const sum = weightSum(variants);
  if (Math.abs(sum - 1) > TOLERANCE) return `Weights must sum to 1; they sum to ${Number(sum.toFixed(6))}.`;
  return null;
}

/** Even weights that sum to exactly 1 (the last variant takes the rounding remainder). */
export function evenWeights(n: number): string[] {
  const w = Math.floor((1 / n) * 10000) / 10000;
  const out = Array.from({ length: n }, () => w);
  out[n - 1] = Number((1 - w * (n - 1)).toFixed(4));
  return out.map(String);
}

let seq = 0;
export function newVariant(key: string, weight: string, value = ''): DraftVariant {
  return { id: `v${++seq}`, key, name: '', weight, value };
}

interface Props {
  variants: DraftVariant[];
  onChange: (variants: DraftVariant[]) => void;
  error: unknown;
  disabled?: boolean;
  /** Without it the editor shows no values (as before values existed). */
  values?: DraftValues;
  onValuesChange?: (values: DraftValues) => void;
  /** Values and their type are locked with the variants once started; the default value is not. */
}

const TYPE_LABELS: Record<ValueType, string> = { boolean: 'Boolean', string: 'String', number: 'Number', json: 'JSON' };

function ValueInput({ id, label, type, text, onChange, error, path }: { id: string; label: string; type: ValueType; text: string; onChange: (t: string) => void; error: unknown; path: string }) {
  const problem = valueInputProblem(type, text);
  const invalid = problem !== null || hasFieldError(error, path);
  const common = { id, 'aria-invalid': invalid, 'aria-describedby': problem !== null ? `${id}-problem` : undefined };
  return (
    <div className={type === 'json' ? 'field field-wide' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {type === 'boolean' ? (
        <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
          <option value="">Choose…</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : type === 'json' ? (
        <textarea {...common} className="mono" rows={4} value={text} placeholder='{"limit": 10}' onChange={(e) => onChange(e.target.value)} spellCheck={false} />
      ) : (
        <input {...common} inputMode={type === 'number' ? 'decimal' : undefined} value={text} onChange={(e) => onChange(e.target.value)} />
      )}
      {problem !== null ? (
        <p className="field-error" id={`${id}-problem`} data-path={path}>
          {problem}
        </p>
      ) : (
        <FieldError error={error} path={path} />
      )}
    </div>
  );
}

export function VariantsEditor({ variants, onChange, error, disabled, values, onValuesChange }: Props) {
  const problem = weightsProblem(variants);
  const set = (i: number, patch: Partial<DraftVariant>) => onChange(variants.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  const add = () => {
    const next = [...variants, newVariant(`variant-${String.fromCharCode(97 + variants.length)}`, '0', variants[0]?.value ?? '')];
    const even = evenWeights(next.length);
    onChange(next.map((v, i) => ({ ...v, weight: even[i] as string })));
  };
  const remove = (i: number) => onChange(variants.filter((_, j) => j !== i));
  const split = () => {
    const even = evenWeights(variants.length);
    onChange(variants.map((v, i) => ({ ...v, weight: even[i] as string })));
  };
  return (
    <fieldset className="fieldset" disabled={disabled}>
      <legend>Variants and weights</legend>
      <p className="hint">
        {disabled
          ? 'Variants, weights and values are locked once an experiment has started: changing them would move units between variants or change what a variant is.'
          : "The first variant is the control. Weights split the experiment's traffic and must sum to 1."}
      </p>
      {values !== undefined && onValuesChange !== undefined ? (
        <div className="field field-narrow">
          <label htmlFor="value-type">Value type</label>
          <select
            id="value-type"
            value={values.valueType}
            onChange={(e) => onValuesChange({ ...values, valueType: e.target.value as ValueType | '' })}
            aria-invalid={hasFieldError(error, 'valueType')}
            aria-describedby="value-type-hint"
          >
            <option value="">No values (variant keys only)</option>
            {VALUE_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]}
              </option>
            ))}
          </select>
          <p className="hint" id="value-type-hint">
            Each variant can carry a value the app reads with <code>getValue</code> (a colour, a limit, a JSON config).
          </p>
          <FieldError error={error} path="valueType" />
        </div>
      ) : null}
      <div className="variant-rows">
        {variants.map((v, i) => (
          <div className="variant-row" key={v.id}>
            <div className="field">
              <label htmlFor={`variant-${i}-key`}>
                Variant {i + 1} key{i === 0 ? ' (control)' : ''}
              </label>
              <input
                id={`variant-${i}-key`}
                value={v.key}
                onChange={(e) => set(i, { key: e.target.value })}
                aria-invalid={hasFieldError(error, `variants.${i}.key`)}
              />
              <FieldError error={error} path={`variants.${i}.key`} />
            </div>
            <div className="field">
              <label htmlFor={`variant-${i}-name`}>Variant {i + 1} name</label>
              <input id={`variant-${i}-name`} value={v.name} placeholder={v.key} onChange={(e) => set(i, { name: e.target.value })} />
              <FieldError error={error} path={`variants.${i}.name`} />
            </div>
            <div className="field field-narrow">
              <label htmlFor={`variant-${i}-weight`}>Variant {i + 1} weight</label>
              <input
                id={`variant-${i}-weight`}
                type="number"
                inputMode="decimal"
                step="0.01"
                min="0"
                max="1"
                value={v.weight}
                onChange={(e) => set(i, { weight: e.target.value })}
                aria-invalid={hasFieldError(error, `variants.${i}.weight`)}
              />
              <FieldError error={error} path={`variants.${i}.weight`} />
            </div>
            {values !== undefined && values.valueType !== '' ? (
              <ValueInput
                id={`variant-${i}-value`}
                label={`Variant ${i + 1} value`}
                type={values.valueType}
                text={v.value}
                onChange={(t) => set(i, { value: t })}
                error={error}
                path={`variants.${i}.value`}
              />
            ) : null}
            <button
              type="button"
              className="btn btn-ghost variant-remove"
              onClick={() => remove(i)}
              disabled={variants.length <= 2}
              aria-label={`Remove variant ${i + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
      </div>
      <div className="row-actions">
        <button type="button" className="btn" onClick={add} disabled={variants.length >= 10}>
          Add variant
        </button>
        <button type="button" className="btn" onClick={split}>
          Split evenly
        </button>
        <span className={problem ? 'text-bad' : 'text-ok'} aria-live="polite" data-testid="weights-status">
          {problem ?? `Weights sum to 1.`}
        </span>
      </div>
      <FieldError error={error} path="variants" />
    </fieldset>
  );
}

/**
 * The default value: what units not in the experiment get (not targeted, outside its traffic, or
 * after it stopped while the app still asks). Editable in every status — those units are not in
 * the analysis, so changing it does not change a treatment.
 */
export function DefaultValueEditor({ values, onValuesChange, error }: { values: DraftValues; onValuesChange: (values: DraftValues) => void; error: unknown }) {
  if (values.valueType === '') return null;
  return (
    <fieldset className="fieldset">
      <legend>Default value</legend>
      <p className="hint">What units not in the experiment get. It can change at any time: those units are not in the results.</p>
      <ValueInput
        id="default-value"
        label="Default value"
        type={values.valueType}
        text={values.defaultValue}
        onChange={(t) => onValuesChange({ ...values, defaultValue: t })}
        error={error}
        path="defaultValue"
      />
    </fieldset>
  );
}
