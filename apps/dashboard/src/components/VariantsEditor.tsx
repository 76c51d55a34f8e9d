import { FieldError, hasFieldError } from './FieldError';

export interface DraftVariant {
  id: string;
  key: string;
  name: string;
  /** Kept as text while typing; parsed on submit. */
  weight: string;
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
export function newVariant(key: string, weight: string): DraftVariant {
  return { id: `v${++seq}`, key, name: '', weight };
}

interface Props {
  variants: DraftVariant[];
  onChange: (variants: DraftVariant[]) => void;
  error: unknown;
  disabled?: boolean;
}

export function VariantsEditor({ variants, onChange, error, disabled }: Props) {
  const problem = weightsProblem(variants);
  const set = (i: number, patch: Partial<DraftVariant>) => onChange(variants.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  const add = () => {
    const next = [...variants, newVariant(`variant-${String.fromCharCode(97 + variants.length)}`, '0')];
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
          ? 'Variants and weights are locked once an experiment has started: changing them would move units between variants.'
          : "The first variant is the control. Weights split the experiment's traffic and must sum to 1."}
      </p>
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
