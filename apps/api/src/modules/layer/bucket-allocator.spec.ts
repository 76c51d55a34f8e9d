import { describe, expect, it } from 'vitest';
import { countBuckets, freeRanges, planRelease, planReservation } from './bucket-allocator';

describe('bucket allocator', () => {
  it('finds the free complement of held ranges', () => {
    expect(freeRanges([{ start: 100, end: 200 }, { start: 0, end: 50 }])).toEqual([
      { start: 50, end: 100 },
      { start: 200, end: 10000 },
    ]);
    expect(freeRanges([])).toEqual([{ start: 0, end: 10000 }]);
  });

  it('prefers the smallest free gap that fits in one piece', () => {
    const held = [{ start: 0, end: 1000 }, { start: 1300, end: 5000 }];
    expect(planReservation(held, 200)).toEqual([{ start: 1000, end: 1200 }]);
    expect(planReservation(held, 4000)).toEqual([{ start: 5000, end: 9000 }]);
  });

  it('splits across gaps when no single gap fits, and refuses beyond capacity', () => {
    const held = [{ start: 0, end: 4000 }, { start: 5000, end: 9500 }];
    const plan = planReservation(held, 1200);
    expect(plan).toEqual([{ start: 4000, end: 5000 }, { start: 9500, end: 9700 }]);
    expect(countBuckets(plan ?? [])).toBe(1200);
    expect(planReservation(held, 1501)).toBeNull();
  });

  it('releases the most recently reserved buckets first when ramping down', () => {
    const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);
    const held = [
      { id: '1', start: 0, end: 1000, reservedAt: t(0) },
      { id: '2', start: 3000, end: 3500, reservedAt: t(10) },
      { id: '3', start: 5000, end: 5200, reservedAt: t(20) },
    ];
    expect(planRelease(held, 600)).toEqual({ release: ['3'], shrink: { id: '2', keepEnd: 3100 } });
    expect(planRelease(held, 200)).toEqual({ release: ['3'], shrink: null });
    expect(planRelease(held, 1700)).toEqual({ release: ['3', '2', '1'], shrink: null });
  });
});
