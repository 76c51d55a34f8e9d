import type { MetricDto } from '@strata/contracts';
import { useState } from 'react';
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
  const toggle = (list: string[], key: string) => (list.includes(key) ? list.filter((k) => k !== key) : [...list, key]);
  // What the experiment measured when the form opened: unticking an archived metric keeps it offered.
  const [measured] = useState(() => new Set([draft.primaryMetric, ...draft.secondaryMetrics, ...draft.guardrailMetrics]));
  const metrics = all.filter((m) => !m.archivedAt || measured.has(m.key));
  const label = (m: MetricDto) => (m.archivedAt ? `${m.name} (archived)` : m.name);
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
              {label(m)} ({m.key}, {m.type})
            </option>
          ))}
        </select>
        <p className="hint">The one metric that decides whether to ship.</p>
        <FieldError error={error} path="primaryMetric" />
      </div>
      <fieldset className="fieldset">
        <legend>Secondary metrics</legend>
        <div className="checkbox-list">
          {metrics.map((m) => (
            <label key={m.key} className="checkbox">
              <input
                type="checkbox"
                checked={draft.secondaryMetrics.includes(m.key)}
                onChange={() => set({ secondaryMetrics: toggle(draft.secondaryMetrics, m.key) })}
              />
              {label(m)}
            </label>
          ))}
        </div>
        <FieldError error={error} path="secondaryMetrics" />
      </fieldset>
      <fieldset className="fieldset">
        <legend>Guardrail metrics</legend>
        <p className="hint">Watched for harm; with auto-stop on, significant harm stops the experiment.</p>
        <div className="checkbox-list">
          {metrics.map((m) => (
            <label key={m.key} className="checkbox">
              <input
                type="checkbox"
                checked={draft.guardrailMetrics.includes(m.key)}
                onChange={() => set({ guardrailMetrics: toggle(draft.guardrailMetrics, m.key) })}
              />
              {label(m)}
              {m.harmThreshold !== null ? <span className="muted small">(harm &gt; {(m.harmThreshold * 100).toFixed(1)}%)</span> : null}
            </label>
          ))}
        </div>
        <FieldError error={error} path="guardrailMetrics" />
      </fieldset>
    </fieldset>
  );
}
