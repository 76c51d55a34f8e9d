import { useMutation, useQueryClient } from '@tanstack/react-query';
import { METRIC_DIRECTIONS, type MetricDirection, type MetricDto, type MetricUsageDto, type UpdateMetricRequest } from '@strata/contracts';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { errorMessage } from '../api/client';
import { DataTable, type Column } from '../components/DataTable';
import { ConfirmDialog } from '../components/Dialog';
import { FieldError, FormErrorSummary, hasFieldError } from '../components/FieldError';
import { TextField } from '../components/TextField';
import { ErrorState, Loading } from '../components/States';
import { Badge, StatusBadge } from '../components/StatusBadge';
import { useMetric, useMetricUsage } from '../hooks/queries';
import { useApi, useCan } from '../hooks/session';
import { formatDate, formatPct } from '../lib/format';
import { metricTuning } from '../lib/metric-form';
import { TYPE_HELP } from './MetricsPage';

const directionLabel = (d: MetricDirection) => (d === 'increase' ? 'higher is better' : 'lower is better');

/** One metric: its definition, the experiments using it, editing, archiving and deleting it. */
export function MetricDetailPage() {
  const { key } = useParams();
  const metric = useMetric(key);
  const usage = useMetricUsage(key);
  const can = useCan();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  if (metric.isLoading) return <Loading />;
  if (metric.error) return <ErrorState error={metric.error} onRetry={() => void metric.refetch()} />;
  const m = metric.data;
  if (!m) return null;
  return (
    <section>
      <p className="small">
        <Link to="/metrics">← Metrics</Link>
      </p>
      <div className="page-head">
        <h1>
          {m.name}
          {m.archivedAt && (
            <>
              {' '}
              <Badge tone="muted" title={`Archived ${formatDate(m.archivedAt)}`}>
                archived
              </Badge>
            </>
          )}
        </h1>
        {can.write && (
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
              {editing ? 'Close form' : 'Edit'}
            </button>
            <ArchiveButton metric={m} />
            <button type="button" className="btn btn-danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </div>
        )}
      </div>
      {m.archivedAt && (
        <div className="banner banner-info section">
          Archived on {formatDate(m.archivedAt)}: hidden from the experiment form and the metrics list. Experiments that already measure it
          keep measuring it and show its results.
        </div>
      )}
      {editing && <EditMetricForm metric={m} onDone={() => setEditing(false)} />}
      <dl className="card section">
        <dt>Key</dt>
        <dd className="mono">{m.key}</dd>
        <dt>Type</dt>
        <dd>
          <Badge tone="info">{m.type}</Badge> <span className="muted small">{TYPE_HELP[m.type]}</span>
        </dd>
        <dt>{m.type === 'ratio' ? 'Events' : 'Event'}</dt>
        <dd className="mono">{`${m.eventName}${m.denominatorEventName ? ` / ${m.denominatorEventName}` : ''}`}</dd>
        <dt>Description</dt>
        <dd>{m.description || <span className="muted">none</span>}</dd>
        <dt>Good direction</dt>
        <dd>{directionLabel(m.direction)}</dd>
        <dt>Guardrail harm threshold</dt>
        <dd>{m.harmThreshold !== null ? formatPct(m.harmThreshold, 1, false) : '—'}</dd>
        <dt>Values capped at percentile</dt>
        <dd>{m.winsorizePercentile ?? 'no cap'}</dd>
        <dt>Attribution window</dt>
        <dd>
          {m.attributionWindowHours !== null ? `${m.attributionWindowHours} hours after first exposure` : 'until the experiment stops'}
        </dd>
        <dt>CUPED lookback</dt>
        <dd>{m.cupedLookbackDays ? `${m.cupedLookbackDays} days` : 'off'}</dd>
      </dl>
      <h2>Used by</h2>
      {usage.isLoading ? (
        <Loading />
      ) : usage.error ? (
        <ErrorState error={usage.error} onRetry={() => void usage.refetch()} />
      ) : (
        usage.data && <UsedBy usage={usage.data} />
      )}
      {deleting && <DeleteMetricDialog metric={m} usage={usage.data} onClose={() => setDeleting(false)} />}
    </section>
  );
}

/** Archive or restore: reversible, so no confirmation; an API refusal is shown beside the button. */
function ArchiveButton({ metric }: { metric: MetricDto }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const archived = metric.archivedAt !== null;
  const change = useMutation({
    mutationFn: () => (archived ? api.metrics.unarchive(metric.key) : api.metrics.archive(metric.key)),
    onSuccess: (saved) => {
      queryClient.setQueryData(['metric', metric.key], saved);
      void queryClient.invalidateQueries({ queryKey: ['metrics'] });
    },
  });
  return (
    <>
      <button type="button" className="btn" onClick={() => change.mutate()} disabled={change.isPending}>
        {archived ? 'Unarchive' : 'Archive'}
      </button>
      {change.error && (
        <p className="field-error" role="alert">
          {errorMessage(change.error)}
        </p>
      )}
    </>
  );
}

const USED_BY_COLUMNS: readonly Column<MetricUsageDto['usedBy'][number]>[] = [
  {
    header: 'Experiment',
    cell: (u) => (
      <>
        <Link to={`/experiments/${encodeURIComponent(u.key)}`}>{u.name}</Link>
        <div className="muted small mono">{u.key}</div>
      </>
    ),
  },
  { header: 'Role', cell: (u) => u.role },
  { header: 'Status', cell: (u) => <StatusBadge status={u.status} /> },
];

function UsedBy({ usage }: { usage: MetricUsageDto }) {
  if (usage.usedBy.length === 0) return <p className="muted">No experiment uses this metric.</p>;
  return (
    <DataTable columns={USED_BY_COLUMNS} rows={usage.usedBy} rowKey={(u) => `${u.key}-${u.role}`} className="section" label="Experiments using this metric" />
  );
}

interface EditForm {
  name: string;
  description: string;
  direction: MetricDirection;
  harmThreshold: string;
  winsorizePercentile: string;
  attributionWindowHours: string;
  cupedLookbackDays: string;
}

const EDIT_FIELDS = [
  'name',
  'description',
  'direction',
  'harmThreshold',
  'winsorizePercentile',
  'attributionWindowHours',
  'cupedLookbackDays',
];
export function toUpdateMetricRequest(f: EditForm): UpdateMetricRequest {
  return { name: f.name, description: f.description, direction: f.direction, ...metricTuning(f) };
}

function EditMetricForm({ metric, onDone }: { metric: MetricDto; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [f, setF] = useState<EditForm>({
    name: metric.name,
    description: metric.description,
    direction: metric.direction,
    harmThreshold: metric.harmThreshold === null ? '' : String(+(metric.harmThreshold * 100).toPrecision(12)),
    winsorizePercentile: metric.winsorizePercentile === null ? '' : String(metric.winsorizePercentile),
    attributionWindowHours: metric.attributionWindowHours === null ? '' : String(metric.attributionWindowHours),
    cupedLookbackDays: String(metric.cupedLookbackDays),
  });
  const set = (p: Partial<EditForm>) => setF((x) => ({ ...x, ...p }));
  const update = useMutation({
    mutationFn: () => api.metrics.update(metric.key, toUpdateMetricRequest(f)),
    onSuccess: (saved) => {
      queryClient.setQueryData(['metric', metric.key], saved);
      void queryClient.invalidateQueries({ queryKey: ['metrics'] });
      onDone();
    },
  });
  const error = update.error;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate();
  };
  const input = (id: keyof EditForm, label: string, props: Record<string, string> = {}, hint?: string) => (
    <TextField
      id={`edit-metric-${id}`}
      path={id}
      label={label}
      value={f[id]}
      onChange={(v) => set({ [id]: v })}
      error={error}
      hint={hint}
      inputProps={props}
    />
  );
  return (
    <form className="card form section" onSubmit={submit} noValidate aria-label="Edit metric">
      <h2>Edit metric</h2>
      <p className="hint">Key, type and events are fixed: results already computed depend on them.</p>
      <FormErrorSummary error={error} claimed={(p) => EDIT_FIELDS.includes(p)} />
      <div className="field-row">
        {input('name', 'Name')}
        <div className="field">
          <label htmlFor="edit-metric-direction">Good direction</label>
          <select id="edit-metric-direction" value={f.direction} onChange={(e) => set({ direction: e.target.value as MetricDirection })}>
            {METRIC_DIRECTIONS.map((d) => (
              <option key={d} value={d}>
                {directionLabel(d)}
              </option>
            ))}
          </select>
          <FieldError error={error} path="direction" />
        </div>
      </div>
      <div className="field-row">
        {input(
          'harmThreshold',
          'Guardrail harm threshold (%)',
          { type: 'number', step: '0.5' },
          'As a guardrail, a change this large in the bad direction counts as harm.',
        )}
        {input('winsorizePercentile', 'Cap values at percentile', { type: 'number', step: '0.01' }, 'Between 0.5 and 1; empty for no cap.')}
        {input('attributionWindowHours', 'Attribution window (hours)', { type: 'number', placeholder: 'until stop' })}
        {input('cupedLookbackDays', 'CUPED lookback (days)', { type: 'number', min: '0', max: '90' }, '0 turns CUPED off.')}
      </div>
      <div className="field">
        <label htmlFor="edit-metric-description">Description</label>
        <textarea
          id="edit-metric-description"
          value={f.description}
          onChange={(e) => set({ description: e.target.value })}
          aria-invalid={hasFieldError(error, 'description')}
        />
        <FieldError error={error} path="description" />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

function DeleteMetricDialog({ metric, usage, onClose }: { metric: MetricDto; usage: MetricUsageDto | undefined; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const remove = useMutation({
    mutationFn: () => api.metrics.remove(metric.key),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ['metric', metric.key] });
      void queryClient.invalidateQueries({ queryKey: ['metrics'] });
      void navigate('/metrics');
    },
  });
  const users = usage?.usedBy.length ?? 0;
  return (
    <ConfirmDialog
      title={`Delete “${metric.name}”?`}
      description={
        users > 0
          ? `This metric is used by ${users === 1 ? 'an experiment' : `${users} experiment roles`}: remove it from them first, the API refuses the delete otherwise.`
          : 'The metric definition is removed. Events already received are kept. This cannot be undone.'
      }
      confirmLabel="Delete metric"
      danger
      busy={remove.isPending}
      error={remove.error ? errorMessage(remove.error) : null}
      onConfirm={() => remove.mutate()}
      onCancel={onClose}
    />
  );
}
