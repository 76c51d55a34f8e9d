import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { CreateHoldoutRequest, HoldoutDto } from '@strata/contracts';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { DataTable, type Column } from '../components/DataTable';
import { FieldError, FormErrorSummary, hasFieldError } from '../components/FieldError';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { useHoldouts, useLayers, useMetrics } from '../hooks/queries';
import { useApi, useCan } from '../hooks/session';

const HOLDOUT_COLUMNS: readonly Column<HoldoutDto>[] = [
  {
    header: 'Holdout',
    cell: (h) => (
      <>
        <Link to={`/holdouts/${encodeURIComponent(h.key)}`} className="strong">
          {h.name}
        </Link>
        <div className="muted small mono">{h.key}</div>
      </>
    ),
  },
  { header: 'Share held out', cell: (h) => `${+(h.share * 100).toFixed(2)} %` },
  { header: 'Layers', cell: (h) => (h.layers === null ? 'all layers' : h.layers.join(', ')) },
  { header: 'Metrics', cell: (h) => h.metrics.join(', '), className: 'mono' },
  { header: 'Since', cell: (h) => h.createdAt.slice(0, 10) },
];

/** Holdouts: units kept out of every experiment of some layers, to measure the cumulative impact of what ships there. */
export function HoldoutsPage() {
  const holdouts = useHoldouts();
  const [creating, setCreating] = useState(false);
  const can = useCan();
  return (
    <section>
      <div className="page-head">
        <h1>Holdouts</h1>
        {can.admin && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
            {creating ? 'Close form' : 'New holdout'}
          </button>
        )}
      </div>
      {creating && <CreateHoldoutForm onDone={() => setCreating(false)} />}
      {holdouts.isLoading ? (
        <Loading />
      ) : holdouts.error ? (
        <ErrorState error={holdouts.error} onRetry={() => void holdouts.refetch()} />
      ) : holdouts.data && holdouts.data.items.length === 0 ? (
        !creating && (
          <EmptyState title="No holdouts yet">
            A holdout keeps a small share of units (e.g. 5 %) out of every experiment of some layers for months. Comparing them with
            everyone else shows the cumulative impact of everything shipped there.
          </EmptyState>
        )
      ) : (
        <DataTable columns={HOLDOUT_COLUMNS} rows={holdouts.data?.items ?? []} rowKey={(h) => h.key} className="section" label="Holdouts" />
      )}
    </section>
  );
}

const FIELDS = ['key', 'name', 'description', 'share', 'layers', 'metrics'];

interface HoldoutForm {
  key: string;
  name: string;
  description: string;
  /** Percent, as people type it. */
  share: string;
  allLayers: boolean;
  layers: string[];
  metrics: string[];
}

export function toCreateHoldoutRequest(f: HoldoutForm): CreateHoldoutRequest {
  return {
    key: f.key.trim(),
    name: f.name,
    ...(f.description ? { description: f.description } : {}),
    share: Math.round(Number(f.share) * 100) / 10_000,
    layers: f.allLayers ? null : f.layers,
    metrics: f.metrics,
  };
}

const selected = (el: HTMLSelectElement): string[] => [...el.selectedOptions].map((o) => o.value);

function CreateHoldoutForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const layers = useLayers();
  const metrics = useMetrics();
  const [f, setF] = useState<HoldoutForm>({ key: '', name: '', description: '', share: '5', allLayers: true, layers: [], metrics: [] });
  const set = (p: Partial<HoldoutForm>) => setF((x) => ({ ...x, ...p }));
  const create = useMutation({
    mutationFn: () => api.holdouts.create(toCreateHoldoutRequest(f)),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['holdouts'] });
      onDone();
    },
  });
  const error = create.error;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const text = (id: 'key' | 'name' | 'share', label: string, props: Record<string, string> = {}, hint?: string) => (
    <div className="field">
      <label htmlFor={`holdout-${id}`}>{label}</label>
      <input id={`holdout-${id}`} value={f[id]} onChange={(e) => set({ [id]: e.target.value })} aria-invalid={hasFieldError(error, id)} {...props} />
      {hint && <p className="hint">{hint}</p>}
      <FieldError error={error} path={id} />
    </div>
  );
  return (
    <form className="card form section" onSubmit={submit} noValidate aria-label="New holdout">
      <h2>New holdout</h2>
      <FormErrorSummary error={error} claimed={(p) => FIELDS.some((x) => p === x || p.startsWith(`${x}.`))} />
      <div className="field-row">
        {text('key', 'Key', { placeholder: 'global-2027' })}
        {text('name', 'Name', { placeholder: 'Global holdout 2027' })}
        {text('share', 'Share held out (%)', { type: 'number', min: '0.01', max: '50', step: '0.01' }, 'Fixed once created: changing it would move units between the holdout and the rest.')}
      </div>
      <div className="field-row">
        <div className="field">
          <label>
            <input type="checkbox" checked={f.allLayers} onChange={(e) => set({ allLayers: e.target.checked })} /> Every layer (including new ones)
          </label>
          {!f.allLayers && (
            <>
              <label htmlFor="holdout-layers">Covered layers</label>
              <select id="holdout-layers" multiple value={f.layers} onChange={(e) => set({ layers: selected(e.target) })} aria-invalid={hasFieldError(error, 'layers')}>
                {layers.data?.items.map((l) => (
                  <option key={l.key} value={l.key}>
                    {l.name} ({l.key})
                  </option>
                ))}
              </select>
            </>
          )}
          <FieldError error={error} path="layers" />
        </div>
        <div className="field">
          <label htmlFor="holdout-metrics">Metrics (the first selected is primary)</label>
          <select id="holdout-metrics" multiple value={f.metrics} onChange={(e) => set({ metrics: selected(e.target) })} aria-invalid={hasFieldError(error, 'metrics')}>
            {metrics.data?.items.map((m) => (
              <option key={m.key} value={m.key}>
                {m.name} ({m.key})
              </option>
            ))}
          </select>
          <FieldError error={error} path="metrics" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="holdout-description">Description</label>
        <textarea id="holdout-description" value={f.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create holdout'}
        </button>
      </div>
    </form>
  );
}
