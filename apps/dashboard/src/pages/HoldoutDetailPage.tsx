import type { HoldoutResultsDto, VariantComparisonDto } from '@strata/contracts';
import { Link, useParams } from 'react-router-dom';
import { DataTable, type Column } from '../components/DataTable';
import { CiChart, type CiRow } from '../components/results/CiChart';
import { ErrorState, Loading } from '../components/States';
import { Badge } from '../components/StatusBadge';
import { useHoldout, useHoldoutResults } from '../hooks/queries';
import { formatPct } from '../lib/format';

const ARM_COLUMNS: readonly Column<VariantComparisonDto>[] = [
  { header: 'Arm', cell: (v) => (v.isControl ? 'Holdout' : 'Everyone else') },
  { header: 'Units', cell: (v) => v.units.toLocaleString('en'), numeric: true },
  { header: 'Mean', cell: (v) => v.mean.toFixed(4), numeric: true },
];

/** One holdout: what it covers and how everyone else compares with it (the cumulative impact of what shipped). */
export function HoldoutDetailPage() {
  const { key } = useParams();
  const holdout = useHoldout(key);
  const results = useHoldoutResults(key);
  if (holdout.isLoading) return <Loading />;
  if (holdout.error) return <ErrorState error={holdout.error} onRetry={() => void holdout.refetch()} />;
  const h = holdout.data;
  if (!h) return null;
  return (
    <section>
      <p className="small">
        <Link to="/holdouts">← Holdouts</Link>
      </p>
      <div className="page-head">
        <h1>{h.name}</h1>
      </div>
      <dl className="card section">
        <dt>Key</dt>
        <dd className="mono">{h.key}</dd>
        <dt>Held out</dt>
        <dd>{+(h.share * 100).toFixed(2)} % of units, by their own salt</dd>
        <dt>Covered layers</dt>
        <dd>{h.layers === null ? 'every layer' : h.layers.join(', ')}</dd>
        <dt>Since</dt>
        <dd>{h.createdAt.slice(0, 10)}</dd>
      </dl>
      {h.description && <p>{h.description}</p>}
      <h2>Everyone else vs the holdout</h2>
      {results.isLoading ? <Loading label="Computing results…" /> : results.error ? <ErrorState error={results.error} onRetry={() => void results.refetch()} /> : results.data && <HoldoutResults r={results.data} />}
    </section>
  );
}

function relative(v: VariantComparisonDto) {
  return v.relative?.sequential ?? null;
}

export function HoldoutResults({ r }: { r: HoldoutResultsDto }) {
  const total = r.units.holdout + r.units.rest;
  return (
    <div className="section">
      <p>
        {total === 0
          ? 'No exposures yet: units are counted when they are evaluated in a covered layer.'
          : `${r.units.holdout.toLocaleString('en')} held-out units and ${r.units.rest.toLocaleString('en')} others, data through ${r.dataThrough?.slice(0, 16).replace('T', ' ') ?? '—'} UTC.`}{' '}
        {r.srm?.flagged && <Badge tone="bad">Sample ratio mismatch: the split does not match {+(r.share * 100).toFixed(2)} %</Badge>}
      </p>
      {r.metrics.map((m) => {
        const rest = m.variants.find((v) => !v.isControl);
        const base = m.variants.find((v) => v.isControl);
        const seq = rest ? relative(rest) : null;
        const good = m.direction === 'increase' ? 1 : -1;
        const significant = seq !== null && seq.reason === undefined && rest?.adjustedPValue !== null && (rest?.adjustedPValue ?? 1) <= r.alpha;
        const tone = !significant || seq === null ? 'neutral' : good * seq.estimate > 0 ? 'win' : 'loss';
        const rows: CiRow[] = seq && seq.ci ? [{ variant: 'rest', label: 'Everyone else', estimate: seq.estimate, ci: seq.ci, tone }] : [];
        return (
          <article key={m.metric} className="card section" aria-label={`Metric ${m.name}`}>
            <h3>
              {m.name} <span className="muted small">({m.role})</span>
            </h3>
            <DataTable
              columns={ARM_COLUMNS}
              rows={[base, rest].filter((v): v is VariantComparisonDto => v !== undefined)}
              rowKey={(v) => v.variant}
              label={`Arms of ${m.name}`}
            />
            {seq && seq.reason === undefined ? (
              <p>
                Cumulative impact: <strong>{formatPct(seq.estimate)}</strong> (always-valid interval {formatPct(seq.ci?.[0])} to {formatPct(seq.ci?.[1])}
                ){' '}
                {significant ? <Badge tone={tone === 'win' ? 'ok' : 'bad'}>significant</Badge> : <Badge tone="muted">not significant</Badge>}
              </p>
            ) : (
              <p className="muted">{seq?.reason ?? 'Not enough data yet.'}</p>
            )}
            <CiChart rows={rows} label={`Relative lift of everyone else over the holdout on ${m.name}, with its always-valid interval`} />
          </article>
        );
      })}
    </div>
  );
}
