import type { InteractionDto } from '@strata/contracts';
import { interactionFdr, interactionTest, type InteractionCell, type InteractionCorrection } from '@strata/stats';

/** A running experiment as the interaction checks see it. */
export interface InteractionExperiment {
  key: string;
  layer: string;
  /** Variant keys, control first. */
  arms: string[];
  metric: string;
  metricType: string;
  /** Frozen winsorization cap of the primary metric, if any. */
  cap: number | null;
  rowsVersion: number;
  units: number;
}

/** One stored cell row (both experiments' sums over the units of one (arm of A, arm of B)). */
export interface PairCell {
  expA: string;
  expB: string;
  armA: string;
  armB: string;
  n: number;
  a: Omit<InteractionCell, 'armA' | 'armB' | 'n'>;
  b: Omit<InteractionCell, 'armA' | 'armB' | 'n'>;
}

/** One test as refreshed: the stored row of `InteractionDto`, before the refresh's settings and time are added. */
export type InteractionRow = Omit<InteractionDto, 'correction' | 'fdr' | 'sampleFraction' | 'computedAt'>;

/**
 * Candidate pairs (different layers) and the bound on the rows their join can produce:
 * Σ min(n_A, n_B), since two experiments share at most the smaller one's units.
 */
export function pairBound(experiments: InteractionExperiment[]): { pairs: number; rows: number } {
  let pairs = 0;
  let rows = 0;
  for (let i = 0; i < experiments.length; i++) {
    for (let j = i + 1; j < experiments.length; j++) {
      if (experiments[i].layer === experiments[j].layer) continue;
      pairs++;
      rows += Math.min(experiments[i].units, experiments[j].units);
    }
  }
  return { pairs, rows };
}

/** Hash buckets (of 1024) of units to analyse so that the join stays within `maxRows`. */
export function sampleBuckets(rowsBound: number, maxRows: number): number {
  if (rowsBound <= maxRows) return 1024;
  return Math.max(1, Math.floor((1024 * maxRows) / rowsBound));
}

/**
 * Two tests per pair (each experiment's primary metric, its effect across the other's arms),
 * then one FDR correction over every test of the refresh; undefined tests are reported with
 * their reason and count as not flagged (they take no part in the correction).
 */
export function interactionRows(experiments: InteractionExperiment[], cells: PairCell[], fdr: number, correction: InteractionCorrection): InteractionRow[] {
  const byKey = new Map(experiments.map((e) => [e.key, e]));
  const pairs = new Map<string, PairCell[]>();
  for (const c of cells) {
    const k = `${c.expA}\u0000${c.expB}`;
    let list = pairs.get(k);
    if (!list) pairs.set(k, (list = []));
    list.push(c);
  }
  const rows: InteractionRow[] = [];
  for (const list of pairs.values()) {
    const a = byKey.get(list[0].expA);
    const b = byKey.get(list[0].expB);
    if (!a || !b) continue;
    for (const [subject, other, side] of [[a, b, 'a'], [b, a, 'b']] as const) {
      const t = interactionTest({
        armsA: subject.arms,
        armsB: other.arms,
        ratio: subject.metricType === 'ratio',
        cells: list.map((c) => ({ ...(side === 'a' ? c.a : c.b), armA: side === 'a' ? c.armA : c.armB, armB: side === 'a' ? c.armB : c.armA, n: c.n })),
      });
      rows.push(
        t.ok
          ? { subject: subject.key, other: other.key, metric: subject.metric, units: t.units, method: t.method, df: t.df, statistic: t.statistic, estimate: t.estimate, se: t.se, pValue: t.pValue, adjustedPValue: null, flagged: false, contrasts: t.contrasts, reason: null }
          : { subject: subject.key, other: other.key, metric: subject.metric, units: t.units, method: null, df: null, statistic: null, estimate: null, se: null, pValue: null, adjustedPValue: null, flagged: false, contrasts: [], reason: t.reason },
      );
    }
  }
  const tested = rows.filter((r) => r.pValue !== null);
  const corrected = interactionFdr(tested.map((r) => r.pValue as number), fdr, correction);
  tested.forEach((r, i) => {
    r.adjustedPValue = corrected.adjustedPValues[i];
    r.flagged = corrected.rejected[i];
  });
  return rows;
}
