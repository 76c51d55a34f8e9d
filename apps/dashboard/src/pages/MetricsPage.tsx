import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  METRIC_DIRECTIONS,
  METRIC_TYPES,
  type CreateMetricRequest,
  type MetricDto,
  type MetricDirection,
  type MetricType,
} from '@strata/contracts';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { DataTable, type Column } from '../components/DataTable';
import { FieldError, FormErrorSummary } from '../components/FieldError';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { Badge } from '../components/StatusBadge';
import { useEventNameSuggestions, useMetrics } from '../hooks/queries';
import { useDebounced } from '../hooks/useDebounced';
import { formatDate, formatPct } from '../lib/format';
import { metricTuning } from '../lib/metric-form';
import { TextField } from '../components/TextField';
import { useApi, useCan } from '../hooks/session';

export const TYPE_HELP: Record<MetricType, string> = {
  conversion: 'Share of units that sent the event at least once (e.g. purchase rate).',
  count: 'Events per unit (e.g. page views per user).',
  mean: 'Average of the event value per unit (e.g. revenue per user).',
  ratio: 'Sum of one event over the sum of another, per variant (e.g. clicks per session).',
};

const METRIC_COLUMNS: readonly Column<MetricDto>[] = [
  {
    header: 'Metric',
    cell: (m) => (
      <>
        <Link className="strong" to={`/metrics/${encodeURIComponent(m.key)}`}>
          {m.name}
        </Link>
        <div className="muted small mono">{m.key}</div>
        {m.archivedAt && (
          <Badge tone="muted" title={`Archived ${formatDate(m.archivedAt)}`}>
            archived
          </Badge>
        )}
        {m.description && <div className="muted small">{m.description}</div>}
      </>
    ),
  },
  { header: 'Type', cell: (m) => <Badge tone="info">{m.type}</Badge> },
  { header: 'Event', className: 'mono', cell: (m) => `${m.eventName}${m.denominatorEventName ? ` / ${m.denominatorEventName}` : ''}` },
  { header: 'Good direction', cell: (m) => (m.direction === 'increase' ? 'higher is better' : 'lower is better') },
  { header: 'Guardrail harm threshold', cell: (m) => (m.harmThreshold !== null ? formatPct(m.harmThreshold, 1, false) : '—') },
  { header: 'CUPED lookback', cell: (m) => (m.cupedLookbackDays ? `${m.cupedLookbackDays} days` : 'off') },
];

export function MetricsPage() {
  // The filter lives in the URL (?archived=include), like the experiments list's.
  const [params, setParams] = useSearchParams();
  const showArchived = params.get('archived') === 'include';
  const metrics = useMetrics(showArchived ? { limit: 500, archived: 'include' } : { limit: 500 });
  const [creating, setCreating] = useState(false);
  const can = useCan();
  const toggleArchived = (on: boolean) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (on) next.set('archived', 'include');
        else next.delete('archived');
        return next;
      },
      { replace: true },
    );
  return (
    <section>
      <div className="page-head">
        <h1>Metrics</h1>
        {can.write && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
            {creating ? 'Close form' : 'New metric'}
          </button>
        )}
      </div>
      {creating && <CreateMetricForm onDone={() => setCreating(false)} />}
      <div className="toolbar">
        <label className="checkbox">
          <input type="checkbox" checked={showArchived} onChange={(e) => toggleArchived(e.target.checked)} />
          Show archived metrics
        </label>
      </div>
      {metrics.isLoading ? (
        <Loading />
      ) : metrics.error ? (
        <ErrorState error={metrics.error} onRetry={() => void metrics.refetch()} />
      ) : metrics.data && metrics.data.items.length === 0 && !showArchived ? (
        !creating && (
          <EmptyState
            title="No metrics yet"
            action={
              can.write && (
                <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                  Define your first metric
                </button>
              )
            }
          >
            A metric turns events your app sends (e.g. “purchase”) into a number per unit that experiments compare between variants.
          </EmptyState>
        )
      ) : (
        <DataTable className="section" columns={METRIC_COLUMNS} rows={metrics.data?.items ?? []} rowKey={(m) => m.key} />
      )}
    </section>
  );
}

const METRIC_FIELDS = [
  'key',
  'name',
  'description',
  'type',
  'eventName',
  'denominatorEventName',
  'direction',
  'winsorizePercentile',
  'harmThreshold',
  'attributionWindowHours',
  'cupedLookbackDays',
];

interface MetricForm {
  key: string;
  name: string;
  description: string;
  type: MetricType;
  eventName: string;
  denominatorEventName: string;
  direction: MetricDirection;
  winsorizePercentile: string;
  harmThreshold: string;
  attributionWindowHours: string;
  cupedLookbackDays: string;
}

export function toCreateMetricRequest(f: MetricForm): CreateMetricRequest {
  return {
    key: f.key.trim(),
    name: f.name,
    ...(f.description ? { description: f.description } : {}),
    type: f.type,
    eventName: f.eventName.trim(),
    ...(f.type === 'ratio' || f.denominatorEventName.trim() ? { denominatorEventName: f.denominatorEventName.trim() || null } : {}),
    direction: f.direction,
    ...metricTuning(f),
  };
}

function CreateMetricForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [f, setF] = useState<MetricForm>({
    key: '',
    name: '',
    description: '',
    type: 'conversion',
    eventName: '',
    denominatorEventName: '',
    direction: 'increase',
    winsorizePercentile: '',
    harmThreshold: '',
    attributionWindowHours: '',
    cupedLookbackDays: '14',
  });
  const set = (p: Partial<MetricForm>) => setF((x) => ({ ...x, ...p }));
  const [focused, setFocused] = useState<keyof MetricForm | null>(null);
  const create = useMutation({
    mutationFn: () => api.metrics.create(toCreateMetricRequest(f)),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['metrics'] });
      onDone();
    },
  });
  const error = create.error;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const input = (id: keyof MetricForm, label: string, props: Record<string, string> = {}, hint?: string) => (
    <TextField
      id={`metric-${id}`}
      path={id}
      label={label}
      value={f[id]}
      onChange={(v) => set({ [id]: v })}
      error={error}
      hint={hint}
      inputProps={{ ...props, onFocus: () => setFocused(id) }}
    />
  );
  return (
    <form className="card form section" onSubmit={submit} noValidate aria-label="New metric">
      <h2>New metric</h2>
      <FormErrorSummary error={error} claimed={(p) => METRIC_FIELDS.includes(p)} />
      <div className="field-row">
        {input('key', 'Key', { placeholder: 'purchase' })}
        {input('name', 'Name', { placeholder: 'Purchase rate' })}
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="metric-type">Type</label>
          <select id="metric-type" value={f.type} onChange={(e) => set({ type: e.target.value as MetricType })}>
            {METRIC_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <p className="hint">{TYPE_HELP[f.type]}</p>
          <FieldError error={error} path="type" />
        </div>
        {input('eventName', f.type === 'ratio' ? 'Numerator event' : 'Event name', {
          placeholder: 'purchase',
          list: 'metric-event-names',
          autoComplete: 'off',
        })}
        {f.type === 'ratio' &&
          input('denominatorEventName', 'Denominator event', {
            placeholder: 'session_start',
            list: 'metric-event-names',
            autoComplete: 'off',
          })}
        <EventNameSuggestions
          id="metric-event-names"
          prefix={f.type === 'ratio' && focused === 'denominatorEventName' ? f.denominatorEventName : f.eventName}
        />
        <div className="field">
          <label htmlFor="metric-direction">Good direction</label>
          <select id="metric-direction" value={f.direction} onChange={(e) => set({ direction: e.target.value as MetricDirection })}>
            {METRIC_DIRECTIONS.map((d) => (
              <option key={d} value={d}>
                {d === 'increase' ? 'higher is better' : 'lower is better'}
              </option>
            ))}
          </select>
          <FieldError error={error} path="direction" />
        </div>
      </div>
      <details>
        <summary>Advanced: guardrail threshold, outliers, attribution, CUPED</summary>
        <div className="field-row section">
          {input(
            'harmThreshold',
            'Guardrail harm threshold (%)',
            { type: 'number', step: '0.5', placeholder: '2' },
            'As a guardrail, a change this large in the bad direction counts as harm.',
          )}
          {input(
            'winsorizePercentile',
            'Cap values at percentile',
            { type: 'number', step: '0.01', placeholder: '0.99' },
            'Between 0.5 and 1; empty for no cap.',
          )}
          {input('attributionWindowHours', 'Attribution window (hours)', { type: 'number', placeholder: 'until stop' })}
          {input('cupedLookbackDays', 'CUPED lookback (days)', { type: 'number', min: '0', max: '90' }, '0 turns CUPED off.')}
        </div>
      </details>
      <div className="field">
        <label htmlFor="metric-description">Description</label>
        <textarea id="metric-description" value={f.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create metric'}
        </button>
      </div>
    </form>
  );
}

/** Typing pause before the suggestions follow the prefix: one request per pause, not per keystroke. */
export const EVENT_NAME_DEBOUNCE_MS = 300;

/**
 * A `<datalist>` of metric-event names received in the last 7 days starting with `prefix`, most
 * frequent first. Debounced, and each prefix's answer cached a minute (useEventNameSuggestions).
 */
export function EventNameSuggestions({ id, prefix }: { id: string; prefix: string }) {
  const suggestions = useEventNameSuggestions(useDebounced(prefix.trim().slice(0, 100), EVENT_NAME_DEBOUNCE_MS));
  return (
    <datalist id={id} data-testid={id}>
      {(suggestions.data?.items ?? []).map((s) => (
        <option key={s.name} value={s.name}>
          {`${s.count.toLocaleString('en')} in 7 days`}
        </option>
      ))}
    </datalist>
  );
}
