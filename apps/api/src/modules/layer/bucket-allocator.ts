import { BUCKETS_PER_LAYER, type BucketRange } from '@strata/contracts';

/**
 * Pure planning of bucket reservations in one layer. Ranges are [start, end) over
 * 0..10,000. The ledger service applies the plans inside a transaction that holds the
 * layer's row lock, so two plans never race.
 */

export function countBuckets(ranges: readonly BucketRange[]): number {
  return ranges.reduce((n, r) => n + (r.end - r.start), 0);
}

/** Sorted, merged ranges. */
export function normalize(ranges: readonly BucketRange[]): BucketRange[] {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: BucketRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** The buckets nobody holds. */
export function freeRanges(held: readonly BucketRange[]): BucketRange[] {
  const free: BucketRange[] = [];
  let cursor = 0;
  for (const r of normalize(held)) {
    if (r.start > cursor) free.push({ start: cursor, end: r.start });
    cursor = Math.max(cursor, r.end);
  }
  if (cursor < BUCKETS_PER_LAYER) free.push({ start: cursor, end: BUCKETS_PER_LAYER });
  return free;
}

/**
 * Chooses `count` free buckets: one contiguous range when one fits (the smallest that
 * does, to keep large gaps for large experiments), otherwise the free ranges in order.
 * Returns null when the layer lacks capacity.
 */
export function planReservation(heldByOthersAndSelf: readonly BucketRange[], count: number): BucketRange[] | null {
  if (count <= 0) return [];
  const free = freeRanges(heldByOthersAndSelf);
  if (countBuckets(free) < count) return null;
  const fitting = free.filter((r) => r.end - r.start >= count).sort((a, b) => a.end - a.start - (b.end - b.start));
  const best = fitting[0];
  if (best) return [{ start: best.start, end: best.start + count }];
  const out: BucketRange[] = [];
  let left = count;
  for (const r of free) {
    if (left === 0) break;
    const take = Math.min(left, r.end - r.start);
    out.push({ start: r.start, end: r.start + take });
    left -= take;
  }
  return out;
}

export interface HeldRange extends BucketRange {
  id: string;
  reservedAt: Date;
}

export interface ReleasePlan {
  /** Rows released whole. */
  release: string[];
  /** A row released in part: it keeps [start, keepEnd). */
  shrink: { id: string; keepEnd: number } | null;
}

/** Ramping down gives back the most recently added buckets first. */
export function planRelease(held: readonly HeldRange[], count: number): ReleasePlan {
  const newestFirst = [...held].sort((a, b) => b.reservedAt.getTime() - a.reservedAt.getTime() || Number(b.id) - Number(a.id) || b.start - a.start);
  const plan: ReleasePlan = { release: [], shrink: null };
  let left = count;
  for (const r of newestFirst) {
    if (left <= 0) break;
    const size = r.end - r.start;
    if (size <= left) {
      plan.release.push(r.id);
      left -= size;
    } else {
      plan.shrink = { id: r.id, keepEnd: r.end - left };
      left = 0;
    }
  }
  return plan;
}
