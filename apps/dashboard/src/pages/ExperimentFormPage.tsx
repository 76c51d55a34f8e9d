import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ExperimentDto } from '@strata/contracts';
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
import { buildCreateRequest, buildUpdateRequest, draftFromExperiment, emptyDraft, type ExperimentDraft } from '../lib/experiment-draft';
import { draftToTargeting } from '../lib/targeting';
import { bucketsFor } from '../lib/traffic';
import { ForcedVariants } from './experiment-form/ForcedVariants';
import { MetricPickers } from './experiment-form/MetricPickers';
import { LayerPicker, TrafficField } from './experiment-form/SetupFields';

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
  // Archived ones too: the pickers hide them unless this experiment already measures them.
  const metrics = useMetrics({ limit: 500, archived: 'include' });
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
