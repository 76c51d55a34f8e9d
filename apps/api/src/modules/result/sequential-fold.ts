import { createHash } from 'node:crypto';
import type { ResultsQuery, SequenceInfoDto } from '@strata/contracts';
import {
  advanceSequentialState,
  applySequentialState,
  sequentialObservation,
  sequentialStateKey,
  type Estimate,
  type SequentialState,
} from '@strata/stats';
import type { EntityManager } from 'typeorm';
import type { StoredCap } from '../analysis/stats-store';
import type { AnalysisMetric } from './analysis-definition';

/**
 * Persisted monotone sequential state (issue 15) around the stateless results table: per
 * experiment × metric × variant × analysis configuration, the running minimum of the always-valid
 * p-value and the running intersection of the confidence sequence, advanced by every tick (for the
 * default configuration) and every results read (for the requested one), stored in
 * `analysis_sequential_state`. See libs/stats/src/sequential-state.ts for why this stays valid.
 *
 * A row's `config_hash` is `<slot>#<sha256(key)[0..32]>`: the slot (scale, CUPED) groups the
 * sequences of one number, so a new configuration continues the slot's numbering ("sequence 2,
 * alpha changed") while going back to an earlier configuration resumes that one's sequence.
 */

export type SequentialScale = 'absolute' | 'relative' | 'msprt';

/** Everything that defines a metric's per-unit values, including the frozen winsorization caps. */
export function metricDefinitionHash(metric: AnalysisMetric, cap: StoredCap | null): string {
  const parts = {
    type: metric.type,
    event: metric.eventName,
    denominator: metric.denominatorEventName,
    winsorize: metric.winsorizePercentile,
    window: metric.attributionWindowHours,
    cuped: metric.cupedLookbackDays,
    cap: cap?.cap ?? null,
    covariateCap: cap?.covariateCap ?? null,
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export interface SequentialWrite {
  metric: string;
  variant: string;
  configHash: string;
  state: SequentialState;
}

/** The stored states of one experiment, and the writes one computation produces. */
export class SequentialFold {
  readonly writes: SequentialWrite[] = [];
  /** By `metric \0 variant \0 configHash`. */
  private readonly exact = new Map<string, SequentialState>();
  /** Highest-numbered sequence per `metric \0 variant \0 slot`. */
  private readonly latest = new Map<string, SequentialState>();

  constructor(
    rows: { metric: string; variant: string; configHash: string; state: SequentialState }[],
    private readonly caps: Map<string, StoredCap>,
    private readonly plannedSampleSize: number,
    private readonly at: string,
  ) {
    for (const r of rows) {
      this.exact.set(`${r.metric}\0${r.variant}\0${r.configHash}`, r.state);
      const slot = `${r.metric}\0${r.variant}\0${r.configHash.split('#')[0]}`;
      const prev = this.latest.get(slot);
      if (!prev || r.state.sequence > prev.sequence) this.latest.set(slot, r.state);
    }
  }

  /**
   * Folds one fresh sequential estimate into its sequence; returns the monotone estimate and its
   * label. `rowKey` (default the metric's key) names the stored row, e.g. `signup|country=DE`;
   * `stratifiedBy` (a post-stratification dimension) makes it a sequence of its own (slot `ps:<dim>-…`).
   */
  fold(
    metric: AnalysisMetric,
    variant: string,
    scale: SequentialScale,
    cuped: boolean,
    e: Estimate,
    query: ResultsQuery,
    rowKey: string = metric.key,
    stratifiedBy?: string,
  ): { estimate: Estimate; sequence: SequenceInfoDto } {
    const key = sequentialStateKey({
      alpha: query.alpha,
      correction: query.correction,
      cuped,
      scale,
      plannedSampleSize: this.plannedSampleSize,
      metricDefinitionHash: metricDefinitionHash(metric, this.caps.get(metric.key) ?? null),
      ...(stratifiedBy === undefined ? {} : { stratifiedBy }),
    });
    const slot = `${stratifiedBy === undefined ? '' : `ps:${stratifiedBy}-`}${cuped ? 'cuped-' : ''}${scale}`;
    const configHash = `${slot}#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    const id = `${rowKey}\0${variant}\0${configHash}`;
    const prev = this.exact.get(id) ?? this.latest.get(`${rowKey}\0${variant}\0${slot}`) ?? null;
    const state = advanceSequentialState(prev, sequentialObservation(e, key, query.alpha, this.at));
    this.exact.set(id, state);
    this.writes.push({ metric: rowKey, variant, configHash, state });
    return {
      estimate: applySequentialState(e, state, query.alpha),
      sequence: { key, sequence: state.sequence, startedAt: state.startedAt, restartReason: state.restartReason, reads: state.reads, emptyIntersection: state.emptyIntersection },
    };
  }
}

/**
 * Configuration keys (one per estimate kind and analysis configuration: about five per alpha ×
 * correction × CUPED choice) remembered per experiment.
 */
export const MAX_SEQUENCES_PER_EXPERIMENT = 256;

interface StateRow {
  metric_key: string;
  variant_key: string;
  config_hash: string;
  state: SequentialState;
}

/**
 * The writes of a fold that are stored. Every distinct alpha/correction/CUPED choice a reader asks
 * for is its own sequence: at most MAX_SEQUENCES_PER_EXPERIMENT of them are kept, so a reader
 * cannot grow the table without bound. A configuration past the cap is still answered (always
 * valid at that read), only not remembered across reads.
 */
export function keptWrites(storedConfigHashes: string[], fold: SequentialFold): SequentialWrite[] {
  const known = new Set(storedConfigHashes);
  // The last write per row wins (a time series folds many days into one sequence): one upsert per row.
  const last = new Map<string, SequentialWrite>();
  for (const w of fold.writes) last.set(`${w.metric}\0${w.variant}\0${w.configHash}`, w);
  return [...last.values()].filter((w) => known.has(w.configHash) || (known.size < MAX_SEQUENCES_PER_EXPERIMENT && known.add(w.configHash)));
}

/**
 * One read against in-memory "rows" exactly as withSequentialFold does against the table: the
 * stored rows in, `compute`, the kept writes upserted as JSON text (what the jsonb column holds
 * and gives back). For the seeded simulations of the results path; no I/O.
 */
export function foldInMemory<T>(
  stored: Map<string, string>,
  caps: Map<string, StoredCap>,
  plannedSampleSize: number,
  at: string,
  compute: (fold: SequentialFold) => T,
): T {
  const rows: StateRow[] = [...stored].map(([id, json]) => {
    const [metric_key, variant_key, config_hash] = id.split('\0');
    return { metric_key, variant_key, config_hash, state: JSON.parse(json) as SequentialState };
  });
  const fold = new SequentialFold(toFoldRows(rows), caps, plannedSampleSize, at);
  const out = compute(fold);
  for (const w of keptWrites(rows.map((r) => r.config_hash), fold)) stored.set(`${w.metric}\0${w.variant}\0${w.configHash}`, JSON.stringify(w.state));
  return out;
}

function toFoldRows(rows: StateRow[]): { metric: string; variant: string; configHash: string; state: SequentialState }[] {
  return rows.map((r) => ({ metric: r.metric_key, variant: r.variant_key, configHash: r.config_hash, state: r.state }));
}

/**
 * Read-only folds of many experiments (the summaries): the stored states in one query; what they
 * fold is not written, so a list read changes nothing, yet shows what the page shows.
 */
export async function readSequentialFolds(
  db: EntityManager,
  experiments: { key: string; caps: Map<string, StoredCap>; plannedSampleSize: number }[],
  at: string,
): Promise<Map<string, SequentialFold>> {
  const rows: (StateRow & { experiment_key: string })[] = experiments.length
    ? await db.query(
        "SELECT experiment_key, metric_key, variant_key, config_hash, state FROM analysis_sequential_state WHERE experiment_key = ANY($1::text[]) AND metric_key <> '' AND position('|' in metric_key) = 0",
        [experiments.map((e) => e.key)],
      )
    : [];
  const by = new Map<string, StateRow[]>();
  for (const r of rows) {
    const list = by.get(r.experiment_key);
    if (list) list.push(r);
    else by.set(r.experiment_key, [r]);
  }
  return new Map(experiments.map((e) => [e.key, new SequentialFold(toFoldRows(by.get(e.key) ?? []), e.caps, e.plannedSampleSize, at)]));
}

/**
 * Runs `compute` with the experiment's stored states under a per-experiment transaction lock
 * (concurrent reads and ticks fold one after another, so none is lost) and writes what it folded.
 */
export async function withSequentialFold<T>(
  manager: EntityManager,
  experiment: string,
  caps: Map<string, StoredCap>,
  plannedSampleSize: number,
  at: string,
  compute: (fold: SequentialFold) => T,
): Promise<T> {
  return manager.transaction(async (m) => {
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sequential:${experiment}`]);
    const rows: StateRow[] = await m.query('SELECT metric_key, variant_key, config_hash, state FROM analysis_sequential_state WHERE experiment_key = $1', [experiment]);
    const fold = new SequentialFold(toFoldRows(rows), caps, plannedSampleSize, at);
    const out = compute(fold);
    const writes = keptWrites(rows.map((r) => r.config_hash), fold);
    if (writes.length > 0) {
      await m.query(
        `INSERT INTO analysis_sequential_state (experiment_key, metric_key, variant_key, config_hash, state)
         SELECT $1, w.metric, w.variant, w.config_hash, w.state
           FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[]) AS w(metric, variant, config_hash, state)
         ON CONFLICT (experiment_key, metric_key, variant_key, config_hash) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
        [
          experiment,
          writes.map((w) => w.metric),
          writes.map((w) => w.variant),
          writes.map((w) => w.configHash),
          writes.map((w) => JSON.stringify(w.state)),
        ],
      );
    }
    return out;
  });
}
