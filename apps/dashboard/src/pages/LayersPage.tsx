import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { BucketLedgerEntryDto, LayerDto } from '@strata/contracts';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { BucketBar } from '../components/BucketBar';
import { DataTable, type Column } from '../components/DataTable';
import { FieldError, FormErrorSummary, hasFieldError } from '../components/FieldError';
import { EmptyState, ErrorState, Loading, Pager } from '../components/States';
import { useLayer, useLayers, useLedger } from '../hooks/queries';
import { useApi, useCan } from '../hooks/session';
import { formatDateTime } from '../lib/format';
import { formatCount } from '../lib/traffic';

/** Every layer with its bucket map; `/layers/:key` adds that layer's allocation ledger. */
const LEDGER_COLUMNS: readonly Column<BucketLedgerEntryDto>[] = [
  { header: 'Experiment', cell: (r) => <Link to={`/experiments/${r.experiment}`}>{r.experiment}</Link> },
  { header: 'Buckets', className: 'mono', cell: (r) => `${r.start}–${r.end - 1} (${formatCount(r.end - r.start)})` },
  { header: 'Reserved', cell: (r) => formatDateTime(r.reservedAt) },
  { header: 'Released', cell: (r) => (r.releasedAt ? formatDateTime(r.releasedAt) : <span className="text-ok">held</span>) },
];

export function LayersPage() {
  const { key } = useParams();
  const layers = useLayers();
  const [creating, setCreating] = useState(false);
  const others = layers.data?.items.filter((l) => l.key !== key) ?? [];
  const can = useCan();
  return (
    <section>
      <div className="page-head">
        <h1>Layers</h1>
        {can.write && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
            {creating ? 'Close form' : 'New layer'}
          </button>
        )}
      </div>
      <p className="muted">
        A layer holds 10,000 buckets. Each unit hashes to one bucket per layer, and each experiment reserves its own buckets, so experiments
        in the same layer never share a unit. Use separate layers for experiments that may overlap.
      </p>
      {creating && <CreateLayerForm onDone={() => setCreating(false)} />}
      {key && <LayerDetail layerKey={key} />}
      {layers.isLoading ? (
        <Loading />
      ) : layers.error ? (
        <ErrorState error={layers.error} onRetry={() => void layers.refetch()} />
      ) : layers.data && layers.data.items.length === 0 ? (
        !creating && (
          <EmptyState
            title="No layers yet"
            action={
              can.write && (
                <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                  Create your first layer
                </button>
              )
            }
          >
            Create a layer (for example “homepage” or “checkout”) before creating experiments.
          </EmptyState>
        )
      ) : (
        <>
          {key && others.length > 0 && <h2 className="section">Other layers</h2>}
          {others.map((l) => (
            <LayerCard key={l.key} layer={l} />
          ))}
        </>
      )}
    </section>
  );
}

function LayerCard({ layer: l }: { layer: LayerDto }) {
  return (
    <div className="card section" data-testid={`layer-${l.key}`}>
      <div className="card-head">
        <h2>
          <Link to={`/layers/${l.key}`}>{l.name}</Link> <span className="muted small mono">{l.key}</span>
        </h2>
        <span className="muted small">
          {formatCount(l.freeBuckets)} of {formatCount(l.buckets)} buckets free
        </span>
      </div>
      {l.description && <p className="muted">{l.description}</p>}
      <BucketBar allocations={l.allocations} freeBuckets={l.freeBuckets} label={`Buckets of layer ${l.key}`} />
    </div>
  );
}

function LayerDetail({ layerKey }: { layerKey: string }) {
  const layer = useLayer(layerKey);
  const [offset, setOffset] = useState(0);
  const ledger = useLedger(layerKey, { limit: 25, offset });
  if (layer.isLoading) return <Loading />;
  if (layer.error) return <ErrorState error={layer.error} />;
  if (!layer.data) return null;
  return (
    <>
      <LayerCard layer={layer.data} />
      <div className="card section">
        <h2>Allocation ledger</h2>
        <p className="muted small">
          Every bucket range ever reserved in this layer, and when it was released. Released buckets are reused by later experiments.
        </p>
        {ledger.isLoading ? (
          <Loading />
        ) : ledger.error ? (
          <ErrorState error={ledger.error} />
        ) : ledger.data && ledger.data.items.length === 0 ? (
          <p className="muted">No buckets have been reserved yet. Starting an experiment in this layer reserves its buckets.</p>
        ) : (
          <>
            <DataTable columns={LEDGER_COLUMNS} rows={ledger.data?.items ?? []} rowKey={(r) => r.id} />
            {ledger.data && <Pager total={ledger.data.total} limit={25} offset={offset} onChange={setOffset} />}
          </>
        )}
      </div>
    </>
  );
}

const LAYER_FIELDS = ['key', 'name', 'description', 'salt'];

function CreateLayerForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ key: '', name: '', description: '' });
  const create = useMutation({
    mutationFn: () =>
      api.layers.create({ key: form.key.trim(), name: form.name, ...(form.description ? { description: form.description } : {}) }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['layers'] });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const error = create.error;
  return (
    <form className="card form section" onSubmit={submit} noValidate aria-label="New layer">
      <h2>New layer</h2>
      <FormErrorSummary error={error} claimed={(p) => LAYER_FIELDS.includes(p)} />
      <div className="field-row">
        <div className="field">
          <label htmlFor="layer-key">Key</label>
          <input
            id="layer-key"
            value={form.key}
            placeholder="homepage"
            onChange={(e) => setForm({ ...form, key: e.target.value })}
            aria-invalid={hasFieldError(error, 'key')}
          />
          <FieldError error={error} path="key" />
        </div>
        <div className="field">
          <label htmlFor="layer-name">Name</label>
          <input
            id="layer-name"
            value={form.name}
            placeholder="Homepage"
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            aria-invalid={hasFieldError(error, 'name')}
          />
          <FieldError error={error} path="name" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="layer-description">Description</label>
        <textarea id="layer-description" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
        <FieldError error={error} path="description" />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create layer'}
        </button>
      </div>
    </form>
  );
}
