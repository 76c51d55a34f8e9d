import { describe, expect, it } from 'vitest';
import { eventId } from './event-id';

describe('server event ids', () => {
  it('are unique RFC 9562 v7 uuids carrying their millisecond time, ordered by it', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => eventId()));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const times = [0, 1, 256, Date.UTC(2026, 10, 24, 9, 30, 0, 123), 2 ** 48 - 1];
    for (const t of times) expect(Number(BigInt(`0x${eventId(t).replace(/-/g, '').slice(0, 12)}`))).toBe(t);
    const ordered = times.map((t) => eventId(t));
    expect([...ordered].sort()).toEqual(ordered);
  });
});
