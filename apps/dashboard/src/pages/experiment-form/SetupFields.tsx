import type { LayerDto } from '@strata/contracts';
import { FieldError, hasFieldError } from '../../components/FieldError';
import { bucketsFor, formatCount } from '../../lib/traffic';

/** The experiment form's layer and traffic fields (both locked while the experiment runs). */
export function LayerPicker({
  layers,
  value,
  onChange,
  error,
  disabled,
}: {
  layers: LayerDto[];
  value: string;
  onChange: (l: string) => void;
  error: unknown;
  disabled: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor="exp-layer">Layer</label>
      <select
        id="exp-layer"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        disabled={disabled}
        aria-invalid={hasFieldError(error, 'layer')}
      >
        <option value="">Choose a layer…</option>
        {layers.map((l) => (
          <option key={l.key} value={l.key}>
            {l.name} ({l.key}) — {formatCount(l.freeBuckets)} of 10,000 buckets free
          </option>
        ))}
      </select>
      <p className="hint">Experiments in the same layer never share a unit, so they cannot interfere with each other.</p>
      <FieldError error={error} path="layer" />
    </div>
  );
}

export function TrafficField({
  value,
  onChange,
  error,
  disabled,
}: {
  value: string;
  onChange: (t: string) => void;
  error: unknown;
  disabled: boolean;
}) {
  const n = Number(value) || 0;
  return (
    <div className="field">
      <label htmlFor="exp-traffic">Traffic (% of the layer)</label>
      <div className="traffic">
        <input
          type="range"
          min="0"
          max="100"
          step="1"
          value={n}
          onChange={(e) => onChange(e.target.value)}
          aria-label="Traffic slider"
          disabled={disabled}
        />
        <input
          id="exp-traffic"
          type="number"
          min="0"
          max="100"
          step="0.01"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={hasFieldError(error, 'traffic')}
          disabled={disabled}
        />
      </div>
      <p className="hint">
        {formatCount(bucketsFor(n))} of 10,000 buckets. Start small and ramp up later: ramping up only adds buckets, so every unit already
        in the experiment stays in and keeps its variant.
        {disabled ? ' While the experiment runs, change traffic with Ramp on its page.' : ''}
      </p>
      <FieldError error={error} path="traffic" />
    </div>
  );
}
