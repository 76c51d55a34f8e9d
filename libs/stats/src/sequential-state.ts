import { StatsInputError } from './input-error';
import { intervalAt } from './interval';
import type { Estimate } from './types';

/**
 * Monotone sequential state: what must be stored per (experiment, metric, variant, analysis
 * configuration) so always-valid results never flip between reads.
 *
 * A confidence sequence (CS) covers the truth at *every* time simultaneously with probability
 * ≥ 1 − α, so the running intersection of its intervals is again a (1 − α) CS; likewise the
 * running minimum of an always-valid p-value is always valid (Howard, Ramdas, McAuliffe & Sekhon
 * 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Stat. 49(2), §1;
 * Johari et al. 2022, Operations Research 70(3), §3). With both carried forward, a comparison that
 * was significant stays significant and the interval can only shrink.
 *
 * The state is only meaningful for one analysis configuration: changing alpha, the correction,
 * CUPED or the metric definition changes what the sequence estimates, so it starts a new sequence
 * (with a new label) instead of intersecting across configurations.
 */

/** What identifies one sequence. Change any field → a new, labelled sequence. */
export interface SequentialStateKeyInput {
  alpha: number;
  /** Multiple-comparison correction ('e-bh', 'benjamini-hochberg', 'bonferroni', 'none'). */
  correction: string;
  cuped: boolean;
  /** Hash of everything that defines the metric's values (event, aggregation, filters, winsorization…). */
  metricDefinitionHash: string;
  /** Estimand scale: the relative and absolute sequences are different sequences. */
  scale: 'absolute' | 'relative' | 'msprt';
  /** Optional: the tuning N* (planned units per arm); it changes the CS boundary, so it is part of the key. */
  plannedSampleSize?: number;
  /** Optional: post-stratification dimension, if any. */
  stratifiedBy?: string;
}

/**
 * Canonical key string of a sequence, e.g.
 * `v1|scale=relative|alpha=0.05|correction=e-bh|cuped=1|n*=5000|strata=-|metric=9f2c…`.
 * Stored beside the state; a different key means a different sequence.
 */
export function sequentialStateKey(k: SequentialStateKeyInput): string {
  if (!(k.alpha > 0 && k.alpha < 1)) throw new StatsInputError('sequentialStateKey: alpha must be in (0, 1)');
  if (k.metricDefinitionHash.length === 0) throw new StatsInputError('sequentialStateKey: metricDefinitionHash is empty');
  const planned = k.plannedSampleSize === undefined ? '-' : String(k.plannedSampleSize);
  return [
    'v1',
    `scale=${k.scale}`,
    `alpha=${k.alpha}`,
    `correction=${k.correction}`,
    `cuped=${k.cuped ? 1 : 0}`,
    `n*=${planned}`,
    `strata=${k.stratifiedBy ?? '-'}`,
    `metric=${k.metricDefinitionHash}`,
  ].join('|');
}

/** The stored state of one sequence. Plain JSON: store it as a row or a jsonb column. */
export interface SequentialState {
  key: string;
  /** 1 for the first sequence of this (experiment, metric, variant); +1 on every configuration change. */
  sequence: number;
  /** Label for the UI: "sequence 2 since 2026-11-03 (alpha changed)" is built from this and `startedAt`. */
  restartReason: string | null;
  /** Reads folded into this sequence so far. */
  reads: number;
  /** Running minimum of the always-valid p-value. */
  pValue: number;
  /** Running intersection of the always-valid intervals; null until the first defined read. */
  ci: [number, number] | null;
  /**
   * True once the intervals stopped overlapping. A (1 − α) CS does so only on its ≤ α failure
   * event (or when the model is misspecified, e.g. a drifting effect); the interval is then kept
   * as the degenerate point between the two closest bounds, and the UI should say so.
   */
  emptyIntersection: boolean;
  /** Opaque time label of the first read (ISO date or tick id), carried for the UI label. */
  startedAt: string | null;
}

/** One read's always-valid numbers, as produced by resultsTable's sequential estimates. */
export interface SequentialObservation {
  key: string;
  pValue: number;
  /** Null when the read was undefined (e.g. no units yet); the state keeps its interval. */
  ci: [number, number] | null;
  at?: string;
}

function checkP(p: number, what: string): void {
  if (!(Number.isFinite(p) && p >= 0 && p <= 1)) throw new StatsInputError(`${what} must be a p-value in [0, 1], got ${p}`);
}

function checkCi(ci: [number, number] | null, what: string): void {
  if (ci === null) return;
  if (!(Number.isFinite(ci[0]) && Number.isFinite(ci[1]) && ci[0] <= ci[1])) {
    throw new StatsInputError(`${what} must be a finite interval [lower ≤ upper], got [${ci[0]}, ${ci[1]}]`);
  }
}

/** Describes what changed between two keys (for the new sequence's label). */
export function describeKeyChange(previousKey: string, nextKey: string): string {
  const parse = (key: string) => new Map(key.split('|').map((part) => part.split('=') as [string, string]));
  const a = parse(previousKey);
  const b = parse(nextKey);
  const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  const names: Record<string, string> = {
    alpha: 'alpha',
    correction: 'correction',
    cuped: 'CUPED',
    'n*': 'planned sample size',
    strata: 'post-stratification',
    metric: 'metric definition',
    scale: 'scale',
    v1: 'state version',
  };
  return changed.length === 0 ? 'restarted' : `${changed.map((k) => names[k] ?? k).join(', ')} changed`;
}

/**
 * Folds one read into the state: p = min(previous p, current p), CI = previous CI ∩ current CI.
 * `prev` null (or with another key) starts a sequence. Throws StatsInputError on a p outside
 * [0, 1] or an inverted interval, in the state or in the read (corrupt storage must not be
 * silently "fixed").
 *
 * Empty intersection: if the intervals are disjoint, the result is the degenerate interval [m, m]
 * at the midpoint m of the gap between the closest bounds, with `emptyIntersection: true`; later
 * reads keep intersecting with that point, so it stays a point until a new sequence starts.
 */
export function advanceSequentialState(prev: SequentialState | null, current: SequentialObservation): SequentialState {
  checkP(current.pValue, 'current pValue');
  checkCi(current.ci, 'current ci');
  const at = current.at ?? null;
  if (prev === null || prev.key !== current.key) {
    if (prev !== null) {
      checkP(prev.pValue, 'previous pValue');
    }
    return {
      key: current.key,
      sequence: prev === null ? 1 : prev.sequence + 1,
      restartReason: prev === null ? null : describeKeyChange(prev.key, current.key),
      reads: 1,
      pValue: current.pValue,
      ci: current.ci === null ? null : [current.ci[0], current.ci[1]],
      emptyIntersection: false,
      startedAt: at,
    };
  }
  checkP(prev.pValue, 'previous pValue');
  checkCi(prev.ci, 'previous ci');
  const pValue = Math.min(prev.pValue, current.pValue);
  let ci = prev.ci;
  let emptyIntersection = prev.emptyIntersection;
  if (current.ci !== null) {
    if (prev.ci === null) ci = [current.ci[0], current.ci[1]];
    else {
      const lo = Math.max(prev.ci[0], current.ci[0]);
      const hi = Math.min(prev.ci[1], current.ci[1]);
      if (lo <= hi) ci = [lo, hi];
      else {
        const m = (lo + hi) / 2;
        ci = [m, m];
        emptyIntersection = true;
      }
    }
  }
  return { ...prev, reads: prev.reads + 1, pValue, ci, emptyIntersection };
}

/**
 * Applies a state to a fresh sequential Estimate: returns a copy with the running p, the running
 * interval and `significant` re-derived (p ≤ alpha, or the interval excludes 0 — the two agree
 * for the confidence sequence and the mSPRT). The estimate (point) itself is today's.
 * `params.sequence`, `params.reads` and `params.emptyIntersection` say which sequence it is.
 */
export function applySequentialState(e: Estimate, state: SequentialState, alpha: number): Estimate {
  if (state.ci === null && !e.defined) return e;
  const out: Estimate = { ...e, params: { ...e.params } };
  out.pValue = state.pValue;
  out.ci = state.ci === null ? e.ci : [state.ci[0], state.ci[1]];
  out.params.monotone = 'running-min-p, running-intersection-ci';
  out.params.sequence = state.sequence;
  out.params.reads = state.reads;
  out.params.emptyIntersection = state.emptyIntersection ? 1 : 0;
  const excludesZero = out.ci !== null && (out.ci[0] > 0 || out.ci[1] < 0);
  out.significant = (state.pValue <= alpha || excludesZero) && e.insufficient === undefined;
  return out;
}

/**
 * The observation to fold for one read of a sequential Estimate from resultsTable: its p-value
 * and its interval rebuilt at the NOMINAL alpha (the table's interval may be at a corrected
 * ciAlpha that changes between reads). Reads that are undefined or still below the minimum sample
 * contribute nothing (p = 1, no interval): their normal approximation is not trusted yet, so they
 * must not set the running minimum.
 */
export function sequentialObservation(e: Estimate, key: string, alpha: number, at?: string): SequentialObservation {
  const usable = e.defined && e.insufficient === undefined && e.ci !== null;
  const ci = usable ? (e.params.ciAlpha !== undefined && e.params.ciAlpha !== alpha ? intervalAt(e, alpha) : e.ci) : null;
  return { key, pValue: usable ? e.pValue : 1, ci, ...(at === undefined ? {} : { at }) };
}

/** One day's always-valid read for the timeseries helper. */
export interface DailyRead {
  date: string;
  estimate: number;
  pValue: number;
  ci: [number, number] | null;
}

/** A day of the monotone series: today's point estimate with the running p and interval. */
export interface MonotoneDay extends DailyRead {
  emptyIntersection: boolean;
}

/**
 * The same running minimum / running intersection over a daily series, so the timeseries' last
 * day shows exactly what the table shows when both fold the same reads in the same order. Pass
 * the stored state of the *start* of the series as `initial` (null when the series starts with
 * the sequence).
 */
export function monotoneSeries(key: string, days: readonly DailyRead[], initial: SequentialState | null = null): MonotoneDay[] {
  let state = initial;
  return days.map((d) => {
    state = advanceSequentialState(state, { key, pValue: d.pValue, ci: d.ci, at: d.date });
    return { date: d.date, estimate: d.estimate, pValue: state.pValue, ci: state.ci, emptyIntersection: state.emptyIntersection };
  });
}
