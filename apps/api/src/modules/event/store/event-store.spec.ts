import { describe, expect, it } from 'vitest';
import type { EventRow } from './event-row';
import { FirstExposureCache, firstExposureCandidates, firstExposureKey } from './event-store';

const row = (unitId: string, ts: number, extra: Partial<EventRow> = {}): EventRow => ({
  id: `00000000-0000-4000-8000-${String(ts).padStart(12, '0')}`,
  type: 'exposure',
  unitId,
  experimentKey: 'exp',
  variantKey: 'control',
  name: null,
  value: null,
  ts,
  attributes: null,
  apiKeyId: null,
  forced: false,
  ...extra,
});
const all = (rows: EventRow[]) => rows.map((_, i) => i);

describe('first exposure candidates', () => {
  it('keeps the earliest exposure per (experiment, unit), the first of equal times, sorted by key', () => {
    const rows = [
      row('b', 50),
      row('a', 30),
      row('b', 20),
      row('a', 30, { variantKey: 'second' }),
      row('a', 40),
      row('a', 10, { experimentKey: 'other' }),
      row('c', 5, { type: 'metric', experimentKey: null, variantKey: null, name: 'buy' }),
    ];
    const out = firstExposureCandidates(rows, all(rows), new FirstExposureCache(10));
    expect(out.map((c) => [c.row.experimentKey, c.row.unitId, c.row.ts, c.row.variantKey])).toEqual([
      ['exp', 'a', 30, 'control'],
      ['exp', 'b', 20, 'control'],
      ['other', 'a', 10, 'control'],
    ]);
  });

  it('looks only at the given positions (the duplicates are left out)', () => {
    const rows = [row('a', 1), row('a', 2)];
    expect(firstExposureCandidates(rows, [1], new FirstExposureCache(10)).map((c) => c.row.ts)).toEqual([2]);
  });

  it('skips exposures at or after a remembered first exposure, never earlier ones', () => {
    const cache = new FirstExposureCache(10);
    cache.remember(firstExposureKey('exp', 'a'), 100);
    const rows = [row('a', 100), row('a', 150), row('b', 150)];
    expect(firstExposureCandidates(rows, all(rows), cache).map((c) => c.row.unitId)).toEqual(['b']);
    const earlier = [row('a', 99)];
    expect(firstExposureCandidates(earlier, all(earlier), cache).map((c) => c.row.ts)).toEqual([99]);
  });
});

describe('first exposure cache', () => {
  it('only ever moves a remembered time earlier', () => {
    const cache = new FirstExposureCache(10);
    cache.remember('k', 100);
    cache.remember('k', 200);
    expect(cache.covers('k', 150)).toBe(true);
    expect(cache.covers('k', 99)).toBe(false);
    cache.remember('k', 50);
    expect(cache.covers('k', 99)).toBe(true);
    expect(cache.covers('k', 49)).toBe(false);
    expect(cache.covers('other', Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('forgets the oldest entries beyond its bound, and remembers nothing with bound 0', () => {
    const cache = new FirstExposureCache(2);
    cache.remember('a', 1);
    cache.remember('b', 1);
    cache.remember('c', 1);
    expect(cache.size).toBe(2);
    expect(cache.covers('a', 1)).toBe(false);
    expect(cache.covers('b', 1) && cache.covers('c', 1)).toBe(true);
    const off = new FirstExposureCache(0);
    off.remember('a', 1);
    expect(off.covers('a', 1)).toBe(false);
  });
});
