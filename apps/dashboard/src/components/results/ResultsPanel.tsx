import type { ExperimentDto, ExperimentResultsDto, MetricResultDto } from '@strata/contracts';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError, errorMessage } from '../../api/client';
import { useResults, useTimeseries } from '../../hooks/queries';
import { useApi } from '../../hooks/session';
import { useDebounced } from '../../hooks/useDebounced';
import { formatCi, formatDate, formatDateTime, formatInt, formatPct, formatP } from '../../lib/format';
import { pickInference, type InferenceMode } from '../../lib/verdict';
import { DataTable, type Column } from '../DataTable';
import { Badge } from '../StatusBadge';
import { EmptyState, ErrorState, Loading } from '../States';
import { EffectChecksNotice } from './EffectChecksNotice';
import { InteractionsBanner } from './InteractionsBanner';
import { LiftTimeline } from './LiftTimeline';
import { MetricResultCard } from './MetricResultCard';
import { PostStratifiedCard } from './PostStratifiedCard';

const SEGMENT_SUGGESTIONS = ['country', 'device', 'platform', 'browser', 'day_of_week'];

function download(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Results of one experiment: switches, SRM and guardrail status, per-metric tables and charts, exports. */
export function ResultsPanel({ experiment }: { experiment: ExperimentDto }) {
  const api = useApi();
  const [mode, setMode] = useState<InferenceMode>('sequential');
  const [cuped, setCuped] = useState(true);
  // The segment lives in the URL (?segment=country) so a breakdown can be linked and survives a reload.
  const [searchParams, setSearchParams] = useSearchParams();
  const [segmentText, setSegmentTextState] = useState(searchParams.get('segment') ?? '');
  const setSegmentText = (value: string) => {
    setSegmentTextState(value);
    setSearchParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value.trim()) next.set('segment', value.trim());
        else next.delete('segment');
        return next;
      },
      { replace: true },
    );
  };
  // Post-stratification is in the URL too (?stratify=country); only a declared dimension is asked for (else the API answers 400).
  const dimensions = experiment.segmentDimensions;
  const stratifyParam = searchParams.get('stratify') ?? '';
  const stratify = dimensions.includes(stratifyParam) ? stratifyParam : '';
  const setStratify = (value: string) =>
    setSearchParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set('stratify', value);
        else next.delete('stratify');
        return next;
      },
      { replace: true },
    );
  const [correction, setCorrection] = useState<'bh' | 'bonferroni' | 'none'>('bh');
  const segment = useDebounced(segmentText.trim(), 400);
  const results = useResults(experiment.key, { segment: segment || undefined, correction, stratify: stratify || undefined });
  const timeseries = useTimeseries(experiment.key);
  const [exportError, setExportError] = useState<string | null>(null);

  const exportFile = async (kind: 'csv' | 'json' | 'units') => {
    setExportError(null);
    try {
      const blob =
        kind === 'units' ? await api.experiments.exportUnits(experiment.key) : await api.experiments.exportResults(experiment.key, kind);
      download(blob, kind === 'units' ? `${experiment.key}-units.csv` : `${experiment.key}-results.${kind}`);
    } catch (e) {
      setExportError(`Export failed: ${errorMessage(e)}`);
    }
  };

  if (results.isLoading) return <Loading label="Computing results…" />;
  if (results.error) {
    if (results.error instanceof ApiError && results.error.status === 404 && results.error.code !== 'validation_failed') {
      return (
        <EmptyState title="No results yet">
          Results appear once units are exposed and events arrive. Send exposures and events with an SDK key (see API keys), then refresh.
        </EmptyState>
      );
    }
    return <ErrorState error={results.error} onRetry={() => void results.refetch()} />;
  }
  const r = results.data as ExperimentResultsDto;
  const ended = experiment.status === 'shipped' || experiment.status === 'concluded' || experiment.status === 'stopped';
  if (r.totalUnits === 0 && !segment) {
    return (
      <EmptyState title={ended ? 'No units were exposed' : 'Waiting for the first units'}>
        {ended ? (
          'This experiment ended before any unit was exposed, so there is nothing to analyse.'
        ) : (
          <>
            The experiment is running but no exposures have arrived yet
            {r.dataThrough ? ` (data through ${formatDateTime(r.dataThrough)})` : ''}. Call the SDK’s <code>getVariant</code> in your app
            with an SDK key (create one on <Link to="/api-keys">API keys</Link>), or send test traffic with{' '}
            <code>npm run simulate -- --experiment {experiment.key}</code>. Results appear here about a minute after the first exposures;
            check the targeting if units arrive but none qualify.
          </>
        )}
      </EmptyState>
    );
  }
  // Guardrails are shown once, in the guardrail table, with the corrected harm interval the decision uses.
  const analysed = r.metrics.filter((m) => m.role !== 'guardrail');
  const variantNames = Object.fromEntries(experiment.variants.map((v) => [v.key, v.name]));
  const metricName = (key: string) => r.metrics.find((m) => m.metric === key)?.name ?? key;

  return (
    <div className="results">
      <div className="toolbar">
        <div className="field">
          <span className="label" id="mode-label">
            Inference
          </span>
          <div className="switch" role="group" aria-labelledby="mode-label">
            <button type="button" className="btn" aria-pressed={mode === 'sequential'} onClick={() => setMode('sequential')}>
              Sequential
            </button>
            <button type="button" className="btn" aria-pressed={mode === 'fixed'} onClick={() => setMode('fixed')}>
              Fixed horizon
            </button>
          </div>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={cuped} onChange={(e) => setCuped(e.target.checked)} />
          CUPED variance reduction
        </label>
        <div className="field">
          <label htmlFor="results-segment">Segment by attribute</label>
          <input
            id="results-segment"
            list="segment-suggestions"
            placeholder="e.g. country"
            value={segmentText}
            onChange={(e) => setSegmentText(e.target.value)}
          />
          <datalist id="segment-suggestions">
            {SEGMENT_SUGGESTIONS.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="results-correction">Multiple comparisons</label>
          <select id="results-correction" value={correction} onChange={(e) => setCorrection(e.target.value as typeof correction)}>
            <option value="bh">Benjamini–Hochberg</option>
            <option value="bonferroni">Bonferroni</option>
            <option value="none">None</option>
          </select>
        </div>
        {dimensions.length > 0 && (
          <div className="field">
            <label htmlFor="results-stratify">Variance reduction</label>
            <select id="results-stratify" value={stratify} onChange={(e) => setStratify(e.target.value)}>
              <option value="">None</option>
              {dimensions.map((d) => (
                <option key={d} value={d}>
                  Post-stratify by {d}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <p className="muted small" data-testid="freshness">
        {r.dataThrough ? `Data through ${formatDateTime(r.dataThrough)}` : 'No events processed yet'} · computed{' '}
        {formatDateTime(r.computedAt)} · {formatInt(r.totalUnits)} units · α = {r.alpha} · {r.sequential.method}
        {results.isFetching ? ' · refreshing…' : ''}
      </p>

      {r.srm?.flagged && (
        <div className="banner banner-bad" role="alert" data-testid="srm-banner">
          <h3>Sample ratio mismatch</h3>
          <p>
            The split of units does not match the weights (anytime-valid p = {formatP(r.srm.pValue)}, checked after every update), so the results may be biased — check for bugs in
            assignment or exposure logging before trusting them. Observed:{' '}
            {Object.entries(r.srm.counts)
              .map(([v, n]) => `${v} ${formatInt(n)} (expected ${formatPct(r.srm?.expectedWeights[v] ?? 0, 0, false)})`)
              .join(', ')}
            .
          </p>
        </div>
      )}
      <InteractionsBanner experiment={experiment.key} interactions={r.interactions} />
      <EffectChecksNotice novelty={r.novelty} heterogeneity={r.heterogeneity} />
      {experiment.shippedVariant ? (
        <ShippedBanner experiment={experiment} results={r} mode={mode} cuped={cuped} />
      ) : (
        <div
          className={`banner ${r.decision.hint === 'ship' ? 'banner-ok' : r.decision.hint === 'stop_for_harm' ? 'banner-bad' : 'banner-info'}`}
          data-testid="decision"
        >
          <h3>{DECISION_TITLE[r.decision.hint]}</h3>
          <p>{r.decision.reason}</p>
          {r.readiness && !r.readiness.ready ? (
            <p className="small" data-testid="readiness">
              Minimum duration: {r.readiness.daysRun.toFixed(1)} of {r.readiness.minDurationDays} days run. &ldquo;Ready to ship&rdquo; waits for a full weekly
              cycle, so a weekday-heavy start cannot decide for the weekend.
            </p>
          ) : null}
          <p className="small" data-testid="decision-test">
            This recommendation uses the sequential (always-valid) test, which stays correct however often you look
            {mode === 'fixed'
              ? '. The tables below show fixed-horizon intervals, which are narrower and only valid once the planned sample size is reached, so they can disagree with it before then.'
              : '.'}
          </p>
        </div>
      )}

      {analysed.length === 0 && r.guardrails.length === 0 ? (
        <EmptyState title="No metrics to analyse">Add a primary metric to the experiment (Edit) to see lifts here.</EmptyState>
      ) : (
        analysed.map((m) => <MetricResultCard key={m.metric} metric={m} mode={mode} cuped={cuped} variantNames={variantNames} />)
      )}

      {stratify && <PostStratifiedCard results={r} dimension={stratify} mode={mode} pending={results.isPlaceholderData} />}

      {r.guardrails.length > 0 && (
        <div className="card">
          <h2>Guardrails</h2>
          <p className="muted small">
            Sequential intervals of the change in the harmful direction, corrected for multiple comparisons ({r.correction}); harm is
            flagged when the whole interval is beyond the threshold.
          </p>
          <DataTable columns={guardrailColumns(metricName)} rows={r.guardrails} rowKey={(g) => `${g.metric}-${g.variant}`} />
        </div>
      )}

      <div className="card">
        <h2>Lift over time</h2>
        {timeseries.isLoading ? (
          <Loading />
        ) : timeseries.error ? (
          <p className="muted">
            {timeseries.error instanceof ApiError && timeseries.error.status === 404
              ? 'No daily series yet.'
              : errorMessage(timeseries.error)}
          </p>
        ) : timeseries.data ? (
          analysed.map((m) => (
            <div key={m.metric} className="section">
              <h3>{m.name}</h3>
              <LiftTimeline ts={timeseries.data} metric={m.metric} name={m.name} />
            </div>
          ))
        ) : null}
      </div>

      {r.segments && r.segments.length > 0 && <SegmentTable results={r} mode={mode} />}

      <div className="card">
        <h2>Export</h2>
        <div className="row-actions">
          <button type="button" className="btn" onClick={() => void exportFile('csv')}>
            Results CSV
          </button>
          <button type="button" className="btn" onClick={() => void exportFile('json')}>
            Results JSON
          </button>
          <button type="button" className="btn" onClick={() => void exportFile('units')}>
            Per-unit CSV
          </button>
        </div>
        {exportError && (
          <p className="field-error" role="alert">
            {exportError}
          </p>
        )}
      </div>
    </div>
  );
}

const DECISION_TITLE: Record<ExperimentResultsDto['decision']['hint'], string> = {
  ship: 'Ready to ship',
  keep_running: 'Keep running',
  stop_for_harm: 'Stop: harm detected',
  inconclusive: 'Inconclusive',
};

function ShippedBanner({
  experiment,
  results,
  mode,
  cuped,
}: {
  experiment: ExperimentDto;
  results: ExperimentResultsDto;
  mode: InferenceMode;
  cuped: boolean;
}) {
  const shipped = experiment.shippedVariant as string;
  const variant = experiment.variants.find((v) => v.key === shipped);
  const label = variant && variant.name !== shipped ? `“${variant.name}” (${shipped})` : shipped;
  const primary = results.metrics.find((m) => m.role === 'primary') ?? results.metrics[0];
  const row = primary?.variants.find((v) => v.variant === shipped);
  const inf = row && !row.isControl ? pickInference(row, mode, cuped) : null;
  return (
    <div className="banner banner-ok" data-testid="decision">
      <h3>
        Shipped {label}
        {experiment.stoppedAt ? ` on ${formatDate(experiment.stoppedAt)}` : ''}
      </h3>
      <p>
        {row?.isControl
          ? `Control was kept: every unit in targeting gets ${label}.`
          : `Every unit that matches the targeting now gets ${label}.`}{' '}
        {primary && inf && !inf.reason
          ? `Final result on ${primary.name}: ${formatPct(inf.estimate)} (${formatCi(inf.ci)}, p ${formatP(inf.pValue)}, ${
              inf.significant ? 'significant' : 'not significant'
            }) from ${formatInt(results.totalUnits)} units.`
          : `Final sample: ${formatInt(results.totalUnits)} units.`}
      </p>
    </div>
  );
}

type GuardrailDto = ExperimentResultsDto['guardrails'][number];

function guardrailColumns(metricName: (key: string) => string): Column<GuardrailDto>[] {
  return [
    { header: 'Metric', cell: (g) => metricName(g.metric) },
    { header: 'Variant', cell: (g) => g.variant },
    {
      header: 'Status',
      cell: (g) => <Badge tone={g.status === 'harm' ? 'bad' : g.status === 'ok' ? 'ok' : 'muted'}>{g.status.replace('_', ' ')}</Badge>,
    },
    {
      header: 'Harm interval',
      cell: (g) => (
        <>
          {g.harmCi ? `${formatPct(g.harmCi[0])} to ${formatPct(g.harmCi[1])}` : '—'} (threshold {formatPct(g.threshold, 1, false)})
        </>
      ),
    },
    { header: 'Details', cell: (g) => g.message },
  ];
}

type SegmentDto = NonNullable<ExperimentResultsDto['segments']>[number];
interface SegmentRow {
  segment: SegmentDto;
  metric: SegmentDto['metrics'][number];
  variant: SegmentDto['metrics'][number]['variants'][number];
  inf: ReturnType<typeof pickInference>;
}

const segmentColumns: readonly Column<SegmentRow>[] = [
  {
    header: 'Segment',
    cell: ({ segment }) => (
      <>
        {segment.segment} = <strong>{segment.value}</strong>
      </>
    ),
  },
  { header: 'Metric', cell: ({ metric }) => metric.name },
  { header: 'Variant', cell: ({ variant }) => variant.variant },
  { header: 'Units', numeric: true, cell: ({ variant }) => formatInt(variant.units) },
  { header: 'Lift', numeric: true, cell: ({ inf }) => formatPct(inf?.estimate) },
  { header: 'Interval', cell: ({ metric, inf }) => formatCi(clampLift(inf?.ci ?? null, metric.type)) },
];

function SegmentTable({ results, mode }: { results: ExperimentResultsDto; mode: InferenceMode }) {
  const rows: SegmentRow[] = (results.segments ?? []).flatMap((segment) =>
    segment.metrics.flatMap((metric) =>
      metric.variants
        .filter((v) => !v.isControl)
        .map((variant) => ({ segment, metric, variant, inf: pickInference(variant, mode, false) })),
    ),
  );
  return (
    <div className="card">
      <h2>Segments</h2>
      <p className="muted small">
        {mode === 'sequential' ? 'Always-valid (sequential) intervals' : 'Fixed-horizon intervals'}, uncorrected.
      </p>
      <DataTable columns={segmentColumns} rows={rows} rowKey={(x) => `${x.segment.value}-${x.metric.metric}-${x.variant.variant}`} />
    </div>
  );
}

/** A relative lift of a non-negative metric (conversion, count) cannot fall below −100 %: the normal approximation can. */
function clampLift(ci: [number, number] | null, type: MetricResultDto['type']): [number, number] | null {
  if (!ci || type === 'ratio' || type === 'mean') return ci;
  return [Math.max(ci[0], -1), ci[1]];
}
