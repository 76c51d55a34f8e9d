import type { MetricDto } from '@strata/contracts';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { FieldError, hasFieldError } from '../../components/FieldError';
import type { ExperimentDraft } from '../../lib/experiment-draft';

/**
 * Primary, secondary and guardrail metrics (locked once the experiment has started). Archived
 * metrics are offered only where the experiment already measures them (the API refuses new uses).
 */
export function MetricPickers({
  draft,
  set,
  metrics: all,
  error,
  disabled = false,
}: {
  draft: ExperimentDraft;
  set: (p: Partial<ExperimentDraft>) => void;
  /** Every metric, archived ones included. */
  metrics: MetricDto[];
  error: unknown;
  /** Metrics are locked once the experiment has started. */
  disabled?: boolean;
}) {
  // What the experiment measured when the form opened: unticking an archived metric keeps it offered.
  const [measured] = useState(() => new Set([draft.primaryMetric, ...draft.secondaryMetrics, ...draft.guardrailMetrics]));
  const metrics = all.filter((m) => !m.archivedAt || measured.has(m.key));
  if (metrics.length === 0) {
    return (
      <div className="card">
        <h2>Metrics</h2>
        <p className="muted">
          No metrics defined yet. <Link to="/metrics">Define a metric</Link> (for example a “purchase” conversion) to measure this
          experiment; you can add it here afterwards.
        </p>
      </div>
    );
  }
  return (
    <fieldset className="card form metric-pickers" disabled={disabled}>
      <h2>Metrics</h2>
      {disabled && (
        <p className="hint">
          Metrics are locked once an experiment has started: changing them would change what the test set out to measure.
        </p>
      )}
      <div className="field">
        <label htmlFor="exp-primary">Primary metric</label>
        <select
          id="exp-primary"
          value={draft.primaryMetric}
          onChange={(e) => set({ primaryMetric: e.target.value })}
          aria-invalid={hasFieldError(error, 'primaryMetric')}
        >
          <option value="">None</option>
          {metrics.map((m) => (
            <option key={m.key} value={m.key}>
              {metricLabel(m)} ({m.key}, {m.type})
            </option>
          ))}
        </select>
        <p className="hint">The one metric that decides whether to ship.</p>
        <FieldError error={error} path="primaryMetric" />
      </div>
      <MetricCheckboxes
        legend="Secondary metrics"
        field="secondaryMetrics"
        metrics={metrics}
        selected={draft.secondaryMetrics}
        onChange={(secondaryMetrics) => set({ secondaryMetrics })}
        error={error}
      />
      <MetricCheckboxes
        legend="Guardrail metrics"
        hint="Watched for harm; with auto-stop on, significant harm stops the experiment."
        field="guardrailMetrics"
        metrics={metrics}
        selected={draft.guardrailMetrics}
        onChange={(guardrailMetrics) => set({ guardrailMetrics })}
        error={error}
        note={(m) =>
          m.harmThreshold !== null ? <span className="muted small">(harm &gt; {(m.harmThreshold * 100).toFixed(1)}%)</span> : null
        }
      />
    </fieldset>
  );
}

/** One checkbox per metric; `note` adds text after a metric's name. */
/** A metric's name as the pickers show it: archived ones (still offered where the experiment uses them) say so. */
function metricLabel(m: MetricDto): string {
  return m.archivedAt ? `${m.name} (archived)` : m.name;
}

function MetricCheckboxes({
  legend,
  hint,
  field,
  metrics,
  selected,
  onChange,
  error,
  note,
}: {
  legend: string;
  hint?: string;
  /** The draft field, for its validation message. */
  field: 'secondaryMetrics' | 'guardrailMetrics';
  metrics: MetricDto[];
  selected: string[];
  onChange: (keys: string[]) => void;
  error: unknown;
  note?: (m: MetricDto) => ReactNode;
}) {
  const toggle = (key: string) => (selected.includes(key) ? selected.filter((k) => k !== key) : [...selected, key]);
  return (
    <fieldset className="fieldset">
      <legend>{legend}</legend>
      {hint && <p className="hint">{hint}</p>}
      <div className="checkbox-list">
        {metrics.map((m) => (
          <label key={m.key} className="checkbox">
            <input type="checkbox" checked={selected.includes(m.key)} onChange={() => onChange(toggle(m.key))} />
            {metricLabel(m)}
            {note?.(m)}
          </label>
        ))}
      </div>
      <FieldError error={error} path={field} />
    </fieldset>
  );
}
