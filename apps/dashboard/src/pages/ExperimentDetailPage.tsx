import type { ExperimentDto } from '@strata/contracts';
import { Link, useParams } from 'react-router-dom';
import { ApiError } from '../api/client';
import { BucketBar } from '../components/BucketBar';
import { LifecycleActions } from '../components/LifecycleActions';
import { ResultsPanel } from '../components/results/ResultsPanel';
import { RolloutPanel } from '../components/RolloutPanel';
import { ShipShare } from '../components/ShipShare';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { useAudit, useExperiment, useLayer, useMetrics } from '../hooks/queries';
import { formatDate, formatDateTime } from '../lib/format';
import { describeTargeting } from '../lib/targeting';
import { formatTraffic } from '../lib/traffic';
import { useCan } from '../hooks/session';

export function ExperimentDetailPage() {
  const { key = '' } = useParams();
  const experiment = useExperiment(key);
  const can = useCan();
  if (experiment.isLoading) return <Loading label="Loading experiment…" />;
  if (experiment.error) {
    if (experiment.error instanceof ApiError && experiment.error.status === 404) {
      return (
        <EmptyState
          title={`No experiment “${key}”`}
          action={
            <Link to="/experiments" className="btn btn-primary">
              Back to experiments
            </Link>
          }
        >
          It may have been deleted, or the address is mistyped.
        </EmptyState>
      );
    }
    return <ErrorState error={experiment.error} onRetry={() => void experiment.refetch()} />;
  }
  const e = experiment.data as ExperimentDto;
  return (
    <section>
      <div className="page-head">
        <div>
          <p className="muted small">
            <Link to="/experiments">Experiments</Link> / <span className="mono">{e.key}</span>
          </p>
          <h1>
            {e.name} <StatusBadge status={e.status} />
          </h1>
          <ShipShare experiment={e} />
        </div>
        {can.write && (
          <div className="actions">
            <Link to={`/experiments/${e.key}/edit`} className="btn">
              Edit
            </Link>
            <LifecycleActions experiment={e} />
          </div>
        )}
      </div>
      {e.hypothesis && <p className="muted">{e.hypothesis}</p>}
      <div className="card">
        <dl className="stats">
          <div>
            <dt>Layer</dt>
            <dd>
              <Link to={`/layers/${e.layer}`}>{e.layer}</Link>
            </dd>
          </div>
          <div>
            <dt>Traffic</dt>
            <dd>{formatTraffic(e.traffic)}</dd>
          </div>
          <div>
            <dt>Primary metric</dt>
            <dd>{e.primaryMetric ? <MetricLink metricKey={e.primaryMetric} /> : '—'}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{formatDate(e.startedAt)}</dd>
          </div>
          {e.stoppedAt && (
            <div>
              <dt>{e.shippedVariant ? 'Shipped' : 'Stopped'}</dt>
              <dd>{formatDate(e.stoppedAt)}</dd>
            </div>
          )}
          {e.concludedAt && (
            <div>
              <dt>Concluded</dt>
              <dd>{formatDate(e.concludedAt)}</dd>
            </div>
          )}
          {e.shippedVariant && (
            <div>
              <dt>Shipped variant</dt>
              <dd>{e.shippedVariant}</dd>
            </div>
          )}
          <div>
            <dt>Planned sample (per arm)</dt>
            <dd>{e.plannedSampleSize?.toLocaleString('en-US') ?? '—'}</dd>
          </div>
        </dl>
        <ExperimentSetup experiment={e} />
        {e.status === 'running' && <LayerBuckets experiment={e} />}
      </div>
      {e.status === 'draft' ? (
        <div className="section">
          <EmptyState title="This experiment has not started">
            Review the setup, then press <strong>Start</strong>: it reserves its buckets in layer “{e.layer}” and units begin to be
            assigned. Results appear here once exposures and events arrive.
          </EmptyState>
        </div>
      ) : (
        <div className="section">
          <h2>Results</h2>
          <ResultsPanel experiment={e} />
        </div>
      )}
      {e.status !== 'draft' && <RolloutPanel experiment={e} />}
      <History experiment={e} />
    </section>
  );
}

function LayerBuckets({ experiment }: { experiment: ExperimentDto }) {
  const layer = useLayer(experiment.layer);
  if (!layer.data) return null;
  return (
    <div className="section">
      <BucketBar
        allocations={layer.data.allocations}
        freeBuckets={layer.data.freeBuckets}
        highlight={experiment.key}
        label={`Buckets of layer ${experiment.layer}`}
      />
    </div>
  );
}

/** Guardrail alerts, the stop reason, and the audit trail of this experiment. */
function History({ experiment: e }: { experiment: ExperimentDto }) {
  const audit = useAudit({ entityType: 'experiment', entityKey: e.key, limit: 50 });
  return (
    <div className="card section">
      <h2>History and alerts</h2>
      {e.stopReason && (
        <div className={`banner ${e.stopReason.toLowerCase().includes('guardrail') ? 'banner-bad' : 'banner-warn'}`}>
          <h3>Stop reason</h3>
          <p>{e.stopReason}</p>
        </div>
      )}
      {e.alerts.length > 0 && (
        <>
          <h3>Alerts</h3>
          <ul className="timeline" data-testid="alerts">
            {e.alerts.map((a, i) => (
              <li key={i} className="bad">
                <strong>{a.kind === 'srm' ? 'Sample ratio mismatch' : 'Guardrail harm'}</strong> · {formatDateTime(a.at)}
                <div>{a.message}</div>
              </li>
            ))}
          </ul>
        </>
      )}
      <h3 className="section">Audit trail</h3>
      {audit.isLoading ? (
        <Loading />
      ) : audit.error ? (
        <ErrorState error={audit.error} />
      ) : audit.data && audit.data.items.length > 0 ? (
        <ul className="timeline">
          {audit.data.items.map((a) => (
            <li key={a.id} className={a.action.includes('stop') || a.action.includes('alert') ? 'bad' : ''}>
              <strong>{a.action}</strong> · {formatDateTime(a.at)}
              {a.apiKeyId ? (
                <span className="muted small"> · key {a.apiKeyId.slice(0, 8)}</span>
              ) : (
                <span className="muted small"> · system</span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No changes recorded yet.</p>
      )}
      <p className="small">
        <Link to={`/audit?entityType=experiment&entityKey=${encodeURIComponent(e.key)}`}>
          Open in the audit log with before/after diffs
        </Link>
      </p>
    </div>
  );
}

function MetricLink({ metricKey }: { metricKey: string }) {
  // Archived metrics included: an experiment keeps measuring (and naming) the metrics it started with.
  const metrics = useMetrics({ limit: 500, archived: 'include' });
  const m = metrics.data?.items.find((x) => x.key === metricKey);
  return (
    <Link to={`/metrics/${encodeURIComponent(metricKey)}`} title={metricKey}>
      {m?.name ?? metricKey}
      {m?.archivedAt ? ' (archived)' : ''}
    </Link>
  );
}

function MetricList({ keys }: { keys: string[] }) {
  if (keys.length === 0) return <>None</>;
  return (
    <>
      {keys.map((k, i) => (
        <span key={k}>
          {i > 0 && ', '}
          <MetricLink metricKey={k} />
        </span>
      ))}
    </>
  );
}

/** Everything the draft page asks the PM to review before Start, in words. */
function ExperimentSetup({ experiment: e }: { experiment: ExperimentDto }) {
  return (
    <div className="section" data-testid="experiment-setup">
      <h2>Setup</h2>
      <dl className="setup-list">
        <dt>Variants</dt>
        <dd>
          <ul className="plain-list">
            {e.variants.map((v, i) => (
              <li key={v.key}>
                <strong>{v.name}</strong> <span className="mono muted">{v.key}</span> — {formatWeight(v.weight)} of the experiment’s units
                {i === 0 ? ' (control)' : ''}
              </li>
            ))}
          </ul>
        </dd>
        <dt>Targeting</dt>
        <dd data-testid="targeting-summary">{describeTargeting(e.targeting)}</dd>
        <dt>Secondary metrics</dt>
        <dd>
          <MetricList keys={e.secondaryMetrics} />
        </dd>
        <dt>Guardrail metrics</dt>
        <dd>
          <MetricList keys={e.guardrailMetrics} />
        </dd>
        <dt>Auto-stop</dt>
        <dd>
          {e.autoStop
            ? e.guardrailMetrics.length > 0
              ? 'On: stops automatically when a guardrail metric shows significant harm'
              : 'On, but there are no guardrail metrics to watch'
            : 'Off: a harmed guardrail raises an alert but the experiment keeps running'}
        </dd>
        {e.forcedVariants.length > 0 && (
          <>
            <dt>Forced variants</dt>
            <dd>
              {e.forcedVariants
                .map((f) => `${f.unitId} → ${f.variant}${f.expiresAt ? ` (until ${formatDate(f.expiresAt)})` : ''}`)
                .join('; ')}
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}

function formatWeight(w: number): string {
  return `${Number((w * 100).toFixed(2)).toLocaleString('en-US')}%`;
}
