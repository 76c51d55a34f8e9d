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

const WHOLE_LAYER: readonly BucketRange[] = [{ start: 0, end: BUCKETS_PER_LAYER }];

/** The buckets nobody holds. */
export function freeRanges(held: readonly BucketRange[]): BucketRange[] {
  return subtractRanges(WHOLE_LAYER, held);
}

/** `ranges` minus `minus` (both any order; result sorted and merged). */
export function subtractRanges(ranges: readonly BucketRange[], minus: readonly BucketRange[]): BucketRange[] {
  const cut = normalize(minus);
  const out: BucketRange[] = [];
  for (const r of normalize(ranges)) {
    let cursor = r.start;
    for (const m of cut) {
      if (m.end <= cursor || m.start >= r.end) continue;
      if (m.start > cursor) out.push({ start: cursor, end: m.start });
      cursor = Math.max(cursor, m.end);
    }
    if (cursor < r.end) out.push({ start: cursor, end: r.end });
  }
  return out;
}

/** The part of `ranges` inside `within`. */
export function intersectRanges(ranges: readonly BucketRange[], within: readonly BucketRange[]): BucketRange[] {
  return subtractRanges(ranges, subtractRanges(WHOLE_LAYER, within));
}

/** A range released earlier, from the ledger's history. */
export interface ReleasedRange extends BucketRange {
  releasedAt: Date;
}

export interface ReservationHistory {
  /** The experiment's own released ranges: taken back first, most recently released first. */
  own?: readonly ReleasedRange[];
  /**
   * Other experiments' recently released ranges (within the cool-down): their units may still
   * carry those experiments' effects, so they are used last, longest released first.
   */
  cooling?: readonly ReleasedRange[];
}

/**
 * Chooses `count` free buckets. Tiers, in order:
 *   1. the experiment's own released buckets, most recently released first — a ramp back up
 *      re-admits the units a ramp down let go, not new ones;
 *   2. buckets nobody released recently: one contiguous range when one fits (the smallest that
 *      does, to keep large gaps for large experiments), otherwise the free ranges in order;
 *   3. other experiments' recently released buckets, longest released first.
 * Returns null when the layer lacks capacity.
 */
export function planReservation(heldByOthersAndSelf: readonly BucketRange[], count: number, history: ReservationHistory = {}): BucketRange[] | null {
  if (count <= 0) return [];
  let free = freeRanges(heldByOthersAndSelf);
  if (countBuckets(free) < count) return null;
  const out: BucketRange[] = [];
  let left = count;
  const take = (from: readonly BucketRange[]): void => {
    for (const r of from) {
      if (left === 0) break;
      const n = Math.min(left, r.end - r.start);
      out.push({ start: r.start, end: r.start + n });
      left -= n;
    }
    free = subtractRanges(free, out);
  };
  const newestFirst = [...(history.own ?? [])].sort((a, b) => b.releasedAt.getTime() - a.releasedAt.getTime() || a.start - b.start);
  for (const r of newestFirst) take(intersectRanges(free, [r]));
  if (left === 0) return normalize(out);

  const cooling = history.cooling ?? [];
  const clean = subtractRanges(free, cooling);
  const fitting = clean.filter((r) => r.end - r.start >= left).sort((a, b) => a.end - a.start - (b.end - b.start));
  take(fitting.length > 0 ? [fitting[0]] : clean);
  if (left === 0) return normalize(out);

  const oldestFirst = [...cooling].sort((a, b) => a.releasedAt.getTime() - b.releasedAt.getTime() || a.start - b.start);
  for (const r of oldestFirst) take(intersectRanges(free, [r]));
  return normalize(out);
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
