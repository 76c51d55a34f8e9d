import { describe, expect, it } from 'vitest';
import { countBuckets, freeRanges, intersectRanges, planRelease, planReservation, subtractRanges } from './bucket-allocator';

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

  it('subtracts and intersects ranges', () => {
    expect(subtractRanges([{ start: 0, end: 100 }], [{ start: 10, end: 20 }, { start: 90, end: 200 }])).toEqual([
      { start: 0, end: 10 },
      { start: 20, end: 90 },
    ]);
    expect(intersectRanges([{ start: 0, end: 100 }, { start: 200, end: 300 }], [{ start: 50, end: 250 }])).toEqual([
      { start: 50, end: 100 },
      { start: 200, end: 250 },
    ]);
  });

  it('takes back its own released buckets first, most recently released first', () => {
    const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);
    // A holds [0,3000) and [4000,5000); B released [3000,4000) just now; A released [5000,6000) before that.
    const held = [{ start: 0, end: 3000 }, { start: 4000, end: 5000 }];
    const history = {
      own: [
        { start: 5000, end: 6000, releasedAt: t(10) },
        { start: 7000, end: 7100, releasedAt: t(20) },
      ],
      cooling: [{ start: 3000, end: 4000, releasedAt: t(30) }],
    };
    expect(planReservation(held, 1000, history)).toEqual([
      { start: 5000, end: 5900 },
      { start: 7000, end: 7100 },
    ]);
    expect(planReservation(held, 100, history)).toEqual([{ start: 7000, end: 7100 }]);
    // Without its own history, the smallest clean gap — not B's just released one, though it fits exactly.
    expect(planReservation(held, 1000, { cooling: history.cooling })).toEqual([{ start: 5000, end: 6000 }]);
    expect(planReservation(held, 1000)).toEqual([{ start: 3000, end: 4000 }]);
  });

  it('uses recently released buckets of other experiments last, longest released first', () => {
    const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);
    const held = [{ start: 1000, end: 10000 }];
    const cooling = [
      { start: 0, end: 300, releasedAt: t(20) },
      { start: 300, end: 600, releasedAt: t(10) },
    ];
    // 400 free buckets are clean, 600 are cooling: a 700-bucket request takes all clean ones, then the older release.
    expect(planReservation(held, 700, { cooling })).toEqual([{ start: 300, end: 1000 }]);
    expect(planReservation(held, 1000, { cooling })).toEqual([{ start: 0, end: 1000 }]);
    expect(planReservation(held, 1001, { cooling })).toBeNull();
  });
});
