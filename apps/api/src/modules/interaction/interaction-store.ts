import type { InteractionDto, InteractionsQuery, Page } from '@strata/contracts';
import type { Queryable } from '../analysis/stats-store';

interface StoredRow {
  subject: string;
  other: string;
  metric_key: string;
  units: string;
  method: string | null;
  df: number | null;
  statistic: number | null;
  estimate: number | null;
  se: number | null;
  p_value: number | null;
  adjusted_p: number | null;
  flagged: boolean;
  contrasts: InteractionDto['contrasts'];
  reason: string | null;
  sample_fraction: number;
  computed_at: Date;
  correction: 'bh' | 'by';
  fdr: number;
}

const COLUMNS = 'subject, other, metric_key, units, method, df, statistic, estimate, se, p_value, adjusted_p, flagged, contrasts, reason, sample_fraction, computed_at, correction, fdr';

function toDto(r: StoredRow): InteractionDto {
  return {
    subject: r.subject,
    other: r.other,
    metric: r.metric_key,
    units: Number(r.units),
    method: r.method,
    df: r.df,
    statistic: r.statistic,
    estimate: r.estimate,
    se: r.se,
    pValue: r.p_value,
    adjustedPValue: r.adjusted_p,
    flagged: r.flagged,
    correction: r.correction,
    fdr: r.fdr,
    contrasts: r.contrasts,
    reason: r.reason,
    sampleFraction: r.sample_fraction,
    computedAt: r.computed_at.toISOString(),
  };
}

/**
 * The flagged interactions that involve an experiment, either as the subject (its effect differs
 * across the other's arms) or as the other (it modifies the subject's effect): two index ranges,
 * for the results JSON. Ordered by adjusted p.
 */
export async function readFlaggedInteractions(db: Queryable, key: string): Promise<InteractionDto[]> {
  const rows = (await db.query(
    `SELECT ${COLUMNS} FROM analysis_interactions WHERE flagged AND (subject = $1 OR other = $1) ORDER BY adjusted_p, subject, other LIMIT 1000`,
    [key],
  )) as StoredRow[];
  return rows.map(toDto);
}

/**
 * The stored tests (all, or one experiment's, or only flagged ones), smallest adjusted p first: one
 * page of at most `limit` from `offset`, with the total that matches (a list like every other).
 */
export async function listInteractions(db: Queryable, query: InteractionsQuery): Promise<Page<InteractionDto>> {
  const filter = [query.experiment ?? null, query.flagged === undefined ? null : query.flagged === 'true'];
  const where = '($1::text IS NULL OR subject = $1 OR other = $1) AND ($2::boolean IS NULL OR flagged = $2)';
  const [rows, count] = await Promise.all([
    db.query(`SELECT ${COLUMNS} FROM analysis_interactions WHERE ${where} ORDER BY adjusted_p NULLS LAST, subject, other, metric_key LIMIT $3 OFFSET $4`, [
      ...filter,
      query.limit,
      query.offset,
    ]) as Promise<StoredRow[]>,
    db.query(`SELECT count(*)::bigint AS total FROM analysis_interactions WHERE ${where}`, filter) as Promise<{ total: string }[]>,
  ]);
  return { items: rows.map(toDto), total: Number(count[0]?.total ?? 0), limit: query.limit, offset: query.offset };
}
