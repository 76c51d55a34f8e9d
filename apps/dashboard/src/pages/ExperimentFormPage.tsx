import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ExperimentDto, LayerDto, MetricDto } from '@strata/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { BucketBar } from '../components/BucketBar';
import { FieldError, FormErrorSummary, focusFirstError, hasFieldError } from '../components/FieldError';
import { PowerCalculator } from '../components/PowerCalculator';
import { RuleBuilder } from '../components/RuleBuilder';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { DefaultValueEditor, valuesProblem, VariantsEditor, weightsProblem } from '../components/VariantsEditor';
import { useExperiment, useLayers, useMetricBaseline, useMetrics } from '../hooks/queries';
import { useApi } from '../hooks/session';
import {
  buildCreateRequest,
  buildUpdateRequest,
  draftFromExperiment,
  emptyDraft,
  newForced,
  type ExperimentDraft,
} from '../lib/experiment-draft';
import { draftToTargeting } from '../lib/targeting';
import { bucketsFor, formatCount } from '../lib/traffic';

const CLAIMED = [
  'key',
  'name',
  'hypothesis',
  'layer',
  'variants',
  'valueType',
  'defaultValue',
  'traffic',
  'targeting',
  'forcedVariants',
  'primaryMetric',
  'secondaryMetrics',
  'guardrailMetrics',
  'plannedSampleSize',
];
/** Details rendered next to a field; the rest go to the summary at the top. */
const claimed = (path: string) => CLAIMED.some((c) => path === c || path.startsWith(`${c}.`));

export function ExperimentFormPage() {
  const { key } = useParams();
  const existing = useExperiment(key);
  if (key && existing.isLoading) return <Loading label="Loading experiment…" />;
  if (key && existing.error) return <ErrorState error={existing.error} onRetry={() => void existing.refetch()} />;
  return <ExperimentForm key={key ?? 'new'} original={existing.data ?? null} />;
}

export function ExperimentForm({ original }: { original: ExperimentDto | null }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const layers = useLayers();
  const metrics = useMetrics();
  const [draft, setDraft] = useState<ExperimentDraft>(() => (original ? draftFromExperiment(original) : emptyDraft()));
  const [clientProblem, setClientProblem] = useState<string | null>(null);
  const set = (patch: Partial<ExperimentDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const started = !!original && original.status !== 'draft';
  const baseline = useMetricBaseline(draft.primaryMetric || undefined);

  // A new experiment goes into the first layer unless the person picks another.
  const firstLayer = layers.data?.items[0]?.key;
  useEffect(() => {
    if (!original && firstLayer) setDraft((d) => (d.layer ? d : { ...d, layer: firstLayer }));
  }, [firstLayer, original]);

  const save = useMutation({
    mutationFn: (d: ExperimentDraft) =>
      original ? api.experiments.update(original.key, buildUpdateRequest(d, original)) : api.experiments.create(buildCreateRequest(d)),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ['experiments'] });
      queryClient.setQueryData(['experiment', saved.key], saved);
      void navigate(`/experiments/${saved.key}`);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const weights = started ? null : weightsProblem(draft.variants);
    if (weights) {
      // The weights' status line beside the inputs already says what is wrong; take the person there.
      focusFirstError(null, document.getElementById('variant-0-weight'));
      return;
    }
    const problem = valuesProblem(draft.variants, draft.values);
    setClientProblem(problem);
    if (problem) return;
    save.mutate(draft);
  };

  if (layers.isLoading || metrics.isLoading) return <Loading />;
  if (layers.error) return <ErrorState error={layers.error} />;
  if (!original && layers.data && layers.data.items.length === 0) {
    return (
      <EmptyState
        title="Create a layer first"
        action={
          <Link to="/layers" className="btn btn-primary">
            Create a layer
          </Link>
        }
      >
        Every experiment reserves buckets in a layer. Create one (for example “homepage”), then come back here.
      </EmptyState>
    );
  }
  const layer = layers.data?.items.find((l) => l.key === draft.layer);
  const metricList = metrics.data?.items ?? [];
  const error = save.error;

  return (
    <section>
      <div className="page-head">
        <h1>{original ? `Edit ${original.name}` : 'New experiment'}</h1>
      </div>
      <form className="form" onSubmit={submit} noValidate aria-label={original ? 'Edit experiment' : 'New experiment'}>
        <FormErrorSummary error={error} claimed={claimed} />
        <div className="card form">
          <h2>Basics</h2>
          <div className="field-row">
            <div className="field">
              <label htmlFor="exp-key">Key</label>
              <input
                id="exp-key"
                value={draft.key}
                disabled={!!original}
                placeholder="checkout-button-color"
                onChange={(e) => set({ key: e.target.value })}
                aria-invalid={hasFieldError(error, 'key')}
                aria-describedby="exp-key-hint"
              />
              <p className="hint" id="exp-key-hint">
                Used by the SDK; lowercase letters, digits, “-” and “_”. It cannot change later.
              </p>
              <FieldError error={error} path="key" />
            </div>
            <div className="field">
              <label htmlFor="exp-name">Name</label>
              <input
                id="exp-name"
                value={draft.name}
                onChange={(e) => set({ name: e.target.value })}
                aria-invalid={hasFieldError(error, 'name')}
              />
              <FieldError error={error} path="name" />
            </div>
          </div>
          <div className="field">
            <label htmlFor="exp-hypothesis">Hypothesis</label>
            <textarea
              id="exp-hypothesis"
              value={draft.hypothesis}
              placeholder="A green button makes more visitors complete checkout."
              onChange={(e) => set({ hypothesis: e.target.value })}
            />
            <FieldError error={error} path="hypothesis" />
          </div>
        </div>

        <div className="card form">
          <h2>Layer and traffic</h2>
          <LayerPicker
            layers={layers.data?.items ?? []}
            value={draft.layer}
            onChange={(l) => set({ layer: l })}
            error={error}
            disabled={started}
          />
          {layer && (
            <BucketBar
              allocations={layer.allocations}
              freeBuckets={layer.freeBuckets}
              highlight={original?.key}
              requested={original?.status === 'running' ? undefined : bucketsFor(Number(draft.traffic) || 0)}
              label={`Buckets of layer ${layer.key}`}
            />
          )}
          <TrafficField
            value={draft.traffic}
            onChange={(t) => set({ traffic: t })}
            error={error}
            disabled={!!original && original.status !== 'draft'}
          />
        </div>

        <VariantsEditor
          variants={draft.variants}
          onChange={(v) => set({ variants: v })}
          error={error}
          disabled={started}
          values={draft.values}
          onValuesChange={(values) => set({ values })}
        />
        <DefaultValueEditor values={draft.values} onValuesChange={(values) => set({ values })} error={error} />
        {clientProblem && (
          <p className="field-error" role="alert">
            {clientProblem}
          </p>
        )}

        <div className="card form">
          <h2>Targeting</h2>
          <p className="hint">Only units whose attributes match take part; others see the default experience and are not counted.</p>
          <RuleBuilder value={draft.targeting} onChange={(t) => set({ targeting: t })} error={error} />
          <FieldError error={error} path="targeting" />
          <details>
            <summary>Rule JSON sent to the API</summary>
            <pre className="rule-preview" data-testid="targeting-json">
              {JSON.stringify(draftToTargeting(draft.targeting), null, 2)}
            </pre>
          </details>
        </div>

        <ForcedVariants draft={draft} set={set} error={error} />

        <MetricPickers draft={draft} set={set} metrics={metricList} error={error} disabled={started} />

        <div className="card form">
          <h2>Planned sample size</h2>
          <div className="field-row">
            <div className="field">
              <label htmlFor="exp-planned">Planned sample size (units per arm)</label>
              <input
                id="exp-planned"
                type="number"
                min="10"
                value={draft.plannedSampleSize}
                onChange={(e) => set({ plannedSampleSize: e.target.value })}
                aria-invalid={hasFieldError(error, 'plannedSampleSize')}
              />
              <FieldError error={error} path="plannedSampleSize" />
            </div>
          </div>
          <details open={!original}>
            <summary>Power calculator</summary>
            <PowerCalculator
              arms={draft.variants.length}
              baseline={draft.primaryMetric ? baseline.data : undefined}
              onUse={(n) => set({ plannedSampleSize: String(n) })}
            />
          </details>
          <label className="checkbox">
            <input type="checkbox" checked={draft.autoStop} onChange={(e) => set({ autoStop: e.target.checked })} />
            Stop automatically when a guardrail metric shows significant harm
          </label>
        </div>

        <div className="form-actions">
          <Link to={original ? `/experiments/${original.key}` : '/experiments'} className="btn">
            Cancel
          </Link>
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : original ? 'Save changes' : 'Create experiment'}
          </button>
        </div>
      </form>
    </section>
  );
}

function LayerPicker({
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

function TrafficField({
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

function ForcedVariants({ draft, set, error }: { draft: ExperimentDraft; set: (p: Partial<ExperimentDraft>) => void; error: unknown }) {
  const update = (i: number, patch: Partial<ExperimentDraft['forced'][number]>) =>
    set({ forced: draft.forced.map((f, j) => (j === i ? { ...f, ...patch } : f)) });
  return (
    <fieldset className="fieldset">
      <legend>Forced variants</legend>
      <p className="hint">Pin specific units (e.g. your own user id for QA) to a variant, regardless of traffic and targeting.</p>
      {draft.forced.map((f, i) => (
        <div className="variant-row" key={f.id}>
          <div className="field">
            <label htmlFor={`forced-${i}-unit`}>Unit id</label>
            <input id={`forced-${i}-unit`} value={f.unitId} onChange={(e) => update(i, { unitId: e.target.value })} />
            <FieldError error={error} path={`forcedVariants.${i}.unitId`} />
          </div>
          <div className="field">
            <label htmlFor={`forced-${i}-variant`}>Variant</label>
            <select id={`forced-${i}-variant`} value={f.variant} onChange={(e) => update(i, { variant: e.target.value })}>
              <option value="">Choose…</option>
              {draft.variants.map((v) => (
                <option key={v.id} value={v.key}>
                  {v.key}
                </option>
              ))}
            </select>
            <FieldError error={error} path={`forcedVariants.${i}.variant`} />
          </div>
          <div className="field">
            <label htmlFor={`forced-${i}-expires`}>Expires (optional)</label>
            <input
              id={`forced-${i}-expires`}
              type="datetime-local"
              value={f.expiresAt}
              onChange={(e) => update(i, { expiresAt: e.target.value })}
            />
            <FieldError error={error} path={`forcedVariants.${i}.expiresAt`} />
          </div>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => set({ forced: draft.forced.filter((_, j) => j !== i) })}
            aria-label={`Remove forced unit ${i + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <div className="row-actions">
        <button type="button" className="btn" onClick={() => set({ forced: [...draft.forced, newForced(draft.variants[0]?.key ?? '')] })}>
          Add forced unit
        </button>
      </div>
      <FieldError error={error} path="forcedVariants" />
    </fieldset>
  );
}

function MetricPickers({
  draft,
  set,
  metrics,
  error,
  disabled = false,
}: {
  draft: ExperimentDraft;
  set: (p: Partial<ExperimentDraft>) => void;
  metrics: MetricDto[];
  error: unknown;
  /** Metrics are locked once the experiment has started. */
  disabled?: boolean;
}) {
  const toggle = (list: string[], key: string) => (list.includes(key) ? list.filter((k) => k !== key) : [...list, key]);
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
              {m.name} ({m.key}, {m.type})
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
              {m.name}
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
              {m.name}
              {m.harmThreshold !== null ? <span className="muted small">(harm &gt; {(m.harmThreshold * 100).toFixed(1)}%)</span> : null}
            </label>
          ))}
        </div>
        <FieldError error={error} path="guardrailMetrics" />
      </fieldset>
    </fieldset>
  );
}
