import { EXPERIMENT_STATUSES, type ExperimentDto, type ExperimentStatus, type ExperimentSummaryDto } from '@strata/contracts';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError } from '../api/client';
import { DataTable, type Column } from '../components/DataTable';
import { Badge, StatusBadge } from '../components/StatusBadge';
import { EmptyState, ErrorState, Loading, Pager } from '../components/States';
import { useExperiments, useLayers, useSummaries } from '../hooks/queries';
import { useDebounced } from '../hooks/useDebounced';
import { formatDate, formatPct } from '../lib/format';
import { formatTraffic } from '../lib/traffic';
import { useCan } from '../hooks/session';

const PAGE = 25;

/** The list's lift cell from a summary: the engine already picked the best treatment on the primary metric. */
export function summaryLift(
  summary: ExperimentSummaryDto,
): { variant: string; estimate: number; significant: boolean; tone: 'ok' | 'bad' | 'info' } | null {
  const p = summary.primary;
  if (!p || p.relativeLift === null) return null;
  // The summary carries the decision hint, not the metric's direction: a significant lift is good
  // when the hint says ship, bad when it says stop for harm, and only "significant" otherwise.
  const tone = summary.decision === 'ship' ? 'ok' : summary.decision === 'stop_for_harm' ? 'bad' : 'info';
  return { variant: p.variant, estimate: p.relativeLift, significant: p.significant, tone };
}

type SummaryState =
  { kind: 'loading' } | { kind: 'error'; missing: boolean } | { kind: 'ready'; summary: ExperimentSummaryDto | undefined };

/** Which rows get a summary: every one that has run (drafts have no data). */
const hasResults = (e: ExperimentDto): boolean => e.status !== 'draft';

function LiftCell({ state }: { state: SummaryState | null }) {
  if (state?.kind === 'loading') return <span className="muted">loading…</span>;
  if (state?.kind === 'error') return <span className="muted">{state.missing ? 'no results yet' : 'unavailable'}</span>;
  if (state?.kind !== 'ready') return <span className="muted">—</span>;
  const summary = state.summary;
  if (!summary) return <span className="muted">no results yet</span>;
  const p = summaryLift(summary);
  if (!p) return <span className="muted">not enough data</span>;
  return (
    <span className={p.significant ? (p.tone === 'ok' ? 'text-ok' : p.tone === 'bad' ? 'text-bad' : '') : ''}>
      {formatPct(p.estimate)} <span className="muted">({p.variant})</span>{' '}
      {p.significant ? <Badge tone={p.tone}>significant</Badge> : <Badge tone="muted">not significant</Badge>}
    </span>
  );
}

function HealthCell({ experiment, state }: { experiment: ExperimentDto; state: SummaryState | null }) {
  const harmAlerts = experiment.alerts.filter((a) => a.kind === 'guardrail_harm').length;
  const srmAlert = experiment.alerts.some((a) => a.kind === 'srm');
  const summary = state?.kind === 'ready' ? state.summary : undefined;
  const srm = !!summary?.srm?.flagged || srmAlert;
  const harms = summary ? summary.guardrails.harm : harmAlerts;
  return (
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
      {summary && !srm && harms === 0 && <Badge tone="ok">healthy</Badge>}
    </span>
  );
}

function experimentColumns(stateOf: (e: ExperimentDto) => SummaryState | null): Column<ExperimentDto>[] {
  return [
    {
      header: 'Experiment',
      cell: (e) => (
        <>
          <Link to={`/experiments/${e.key}`} className="strong">
            {e.name}
          </Link>
          <div className="muted small mono">{e.key}</div>
        </>
      ),
    },
    { header: 'Status', cell: (e) => <StatusBadge status={e.status} /> },
    { header: 'Layer', cell: (e) => e.layer },
    { header: 'Traffic', cell: (e) => formatTraffic(e.traffic) },
    { header: 'Started', cell: (e) => formatDate(e.startedAt) },
    { header: 'Primary lift', cell: (e) => <LiftCell state={stateOf(e)} /> },
    { header: 'Health', cell: (e) => <HealthCell experiment={e} state={stateOf(e)} /> },
  ];
}

export function ExperimentsPage() {
  // Page, search and filters live in the URL: a reload, a shared link or Back shows the same list.
  const [params, setParams] = useSearchParams();
  const status: ExperimentStatus | '' = EXPERIMENT_STATUSES.find((x) => x === params.get('status')) ?? '';
  const layer = params.get('layer') ?? '';
  const search = params.get('q') ?? '';
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  /** Sets one parameter; a new search or filter starts again at the first page. */
  const setParam = (name: 'status' | 'layer' | 'q' | 'offset', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== 'offset') next.delete('offset');
    setParams(next, { replace: name !== 'offset' });
  };
  const setStatus = (v: ExperimentStatus | '') => setParam('status', v);
  const setLayer = (v: string) => setParam('layer', v);
  const setSearch = (v: string) => setParam('q', v);
  const setOffset = (o: number) => setParam('offset', o > 0 ? String(o) : '');
  const debounced = useDebounced(search.trim());
  const query = { status: status || undefined, layer: layer || undefined, search: debounced || undefined, limit: PAGE, offset };
  const experiments = useExperiments(query);
  const layers = useLayers();
  const filtered = !!(status || layer || debounced);
  // One summaries request for the rows shown, not one results request per row.
  const keys = useMemo(() => (experiments.data?.items ?? []).filter(hasResults).map((e) => e.key), [experiments.data]);
  const summaries = useSummaries(keys);
  const byKey = useMemo(() => new Map((summaries.data ?? []).map((x) => [x.experiment, x])), [summaries.data]);
  const stateOf = (e: ExperimentDto): SummaryState | null => {
    if (!hasResults(e)) return null;
    if (summaries.isLoading) return { kind: 'loading' };
    if (summaries.error) return { kind: 'error', missing: summaries.error instanceof ApiError && summaries.error.status === 404 };
    return { kind: 'ready', summary: byKey.get(e.key) };
  };
  const columns = experimentColumns(stateOf);
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
            <DataTable columns={columns} rows={experiments.data.items} rowKey={(e) => e.key} />
            <Pager total={experiments.data.total} limit={PAGE} offset={offset} onChange={setOffset} />
          </>
        )
      )}
    </section>
  );
}
