import { EXPERIMENT_STATUSES, type ExperimentDto, type ExperimentResultsDto, type ExperimentStatus } from '@strata/contracts';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { ApiError } from '../api/client';
import { Badge, StatusBadge } from '../components/StatusBadge';
import { EmptyState, ErrorState, Loading, Pager } from '../components/States';
import { useExperiments, useLayers, useResults } from '../hooks/queries';
import { useDebounced } from '../hooks/useDebounced';
import { formatDate, formatPct } from '../lib/format';
import { formatTraffic } from '../lib/traffic';
import { useCan } from '../hooks/session';

const PAGE = 25;

/** The headline of a results payload for the list: primary metric lift of the best-known treatment. */
export function primaryLift(
  results: ExperimentResultsDto,
): { variant: string; estimate: number; significant: boolean; good: boolean } | null {
  const metric = results.metrics.find((m) => m.role === 'primary') ?? results.metrics[0];
  if (!metric) return null;
  const rows = metric.variants.filter((v) => !v.isControl && v.relative && !v.relative.sequential.reason);
  if (rows.length === 0) return null;
  // Prefer a significant row, then the largest absolute lift.
  const row = [...rows].sort(
    (a, b) =>
      Number(b.relative?.sequential.significant) - Number(a.relative?.sequential.significant) ||
      Math.abs(b.relative?.sequential.estimate ?? 0) - Math.abs(a.relative?.sequential.estimate ?? 0),
  )[0];
  if (!row?.relative) return null;
  const est = row.relative.sequential.estimate;
  return {
    variant: row.variant,
    estimate: est,
    significant: row.relative.sequential.significant,
    good: metric.direction === 'increase' ? est > 0 : est < 0,
  };
}

function ResultCells({ experiment }: { experiment: ExperimentDto }) {
  const live = experiment.status === 'running';
  const results = useResults(experiment.key, {}, live);
  const harmAlerts = experiment.alerts.filter((a) => a.kind === 'guardrail_harm').length;
  const srmAlert = experiment.alerts.some((a) => a.kind === 'srm');
  let lift: ReactNode = <span className="muted">—</span>;
  if (live && results.isLoading) lift = <span className="muted">loading…</span>;
  else if (results.error)
    lift = (
      <span className="muted">{results.error instanceof ApiError && results.error.status === 404 ? 'no results yet' : 'unavailable'}</span>
    );
  else if (results.data) {
    const p = primaryLift(results.data);
    lift = p ? (
      <span className={p.significant ? (p.good ? 'text-ok' : 'text-bad') : ''}>
        {formatPct(p.estimate)} <span className="muted">({p.variant})</span>{' '}
        {p.significant ? <Badge tone={p.good ? 'ok' : 'bad'}>significant</Badge> : <Badge tone="muted">not significant</Badge>}
      </span>
    ) : (
      <span className="muted">not enough data</span>
    );
  }
  const srm = results.data?.srm?.flagged || srmAlert;
  const harms = results.data ? results.data.guardrails.filter((g) => g.status === 'harm').length : harmAlerts;
  return (
    <>
      <td data-label="Primary lift">{lift}</td>
      <td data-label="Health">
        <span className="badges">
          {srm && (
            <Badge tone="bad" title="Sample ratio mismatch: the split of units does not match the weights">
              SRM
            </Badge>
          )}
          {harms > 0 && (
            <Badge tone="bad">
              {harms} guardrail{harms > 1 ? 's' : ''} harmed
            </Badge>
          )}
          {results.data && !srm && harms === 0 && <Badge tone="ok">healthy</Badge>}
        </span>
      </td>
    </>
  );
}

export function ExperimentsPage() {
  const [status, setStatus] = useState<ExperimentStatus | ''>('');
  const [layer, setLayer] = useState('');
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const debounced = useDebounced(search.trim());
  const query = { status: status || undefined, layer: layer || undefined, search: debounced || undefined, limit: PAGE, offset };
  const experiments = useExperiments(query);
  const layers = useLayers();
  const filtered = !!(status || layer || debounced);
  const can = useCan();

  return (
    <section>
      <div className="page-head">
        <h1>Experiments</h1>
        {can.write && (
          <Link to="/experiments/new" className="btn btn-primary">
            New experiment
          </Link>
        )}
      </div>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="filter-search">Search</label>
          <input
            id="filter-search"
            type="search"
            placeholder="Key or name"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setOffset(0);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select
            id="filter-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as ExperimentStatus | '');
              setOffset(0);
            }}
          >
            <option value="">All statuses</option>
            {EXPERIMENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-layer">Layer</label>
          <select
            id="filter-layer"
            value={layer}
            onChange={(e) => {
              setLayer(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">All layers</option>
            {layers.data?.items.map((l) => (
              <option key={l.key} value={l.key}>
                {l.name} ({l.key})
              </option>
            ))}
          </select>
        </div>
      </div>
      {experiments.isLoading ? (
        <Loading label="Loading experiments…" />
      ) : experiments.error ? (
        <ErrorState error={experiments.error} onRetry={() => void experiments.refetch()} />
      ) : experiments.data && experiments.data.items.length === 0 ? (
        filtered ? (
          <EmptyState title="No experiments match these filters">Clear the search or pick another status or layer.</EmptyState>
        ) : layers.data && layers.data.items.length === 0 ? (
          <EmptyState
            title="Create a layer first"
            action={
              can.write && (
                <Link to="/layers" className="btn btn-primary">
                  Create a layer
                </Link>
              )
            }
          >
            Experiments live in layers: a layer has 10,000 buckets, and experiments in the same layer never share a unit. Create a layer,
            define a metric, then create your first experiment.
          </EmptyState>
        ) : (
          <EmptyState
            title="No experiments yet"
            action={
              can.write && (
                <Link to="/experiments/new" className="btn btn-primary">
                  Create your first experiment
                </Link>
              )
            }
          >
            An experiment splits a share of a layer's traffic between variants and measures its metrics. Make sure you have defined a metric
            (Metrics page) to use as the primary metric.
          </EmptyState>
        )
      ) : (
        experiments.data && (
          <>
            <div className="table-wrap">
              <table className="table table-stack">
                <thead>
                  <tr>
                    <th scope="col">Experiment</th>
                    <th scope="col">Status</th>
                    <th scope="col">Layer</th>
                    <th scope="col">Traffic</th>
                    <th scope="col">Started</th>
                    <th scope="col">Primary lift</th>
                    <th scope="col">Health</th>
                  </tr>
                </thead>
                <tbody>
                  {experiments.data.items.map((e) => (
                    <tr key={e.key}>
                      <td data-label="Experiment">
                        <Link to={`/experiments/${e.key}`} className="strong">
                          {e.name}
                        </Link>
                        <div className="muted small mono">{e.key}</div>
                      </td>
                      <td data-label="Status">
                        <StatusBadge status={e.status} />
                      </td>
                      <td data-label="Layer">{e.layer}</td>
                      <td data-label="Traffic">{formatTraffic(e.traffic)}</td>
                      <td data-label="Started">{formatDate(e.startedAt)}</td>
                      <ResultCells experiment={e} />
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager total={experiments.data.total} limit={PAGE} offset={offset} onChange={setOffset} />
          </>
        )
      )}
    </section>
  );
}
