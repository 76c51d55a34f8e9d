import { describe, expect, it } from 'vitest';
import { partitionFor, utcDay } from './event-partitions';

describe('daily partitions', () => {
  it('names a UTC day events_YYYYMMDD with a [midnight, next midnight) range', () => {
    const day = utcDay(Date.parse('2026-11-20T23:59:59.999Z'));
    expect(partitionFor(day)).toEqual({ name: 'events_20261120', from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' });
    expect(utcDay(Date.parse('2026-11-21T00:00:00Z'))).toBe(day + 1);
  });
});
