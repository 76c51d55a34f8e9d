import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, parseRetryAfter, uuid } from './http';

describe('retry policy', () => {
  it('retries 429 and 5xx only', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 422].some(isRetryableStatus)).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });

  it('doubles the backoff per attempt with jitter in the upper half, capped', () => {
    expect(backoffDelay(0, 100, 10_000, null, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, null, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, null, () => 0)).toBe(400);
    expect(backoffDelay(3, 100, 10_000, null, () => 1)).toBe(800);
    expect(backoffDelay(20, 100, 10_000, null, () => 1)).toBe(10_000);
  });

  it('waits at least as long as Retry-After asks, up to the cap', () => {
    expect(backoffDelay(0, 100, 10_000, 2_000, () => 0.5)).toBe(2_000);
    expect(backoffDelay(0, 100, 10_000, 60_000, () => 0.5)).toBe(10_000);
  });

  it('generates RFC 9562 v7 ids: unique, carrying their millisecond time, ordered by it', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => uuid()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const times = [0, 1, 255, 256, Date.UTC(2026, 10, 24, 9, 30, 0, 123), 2 ** 48 - 1];
    for (const t of times) {
      // Independent decode: the first 12 hex digits are the big-endian milliseconds.
      expect(Number(BigInt(`0x${uuid(t).replace(/-/g, '').slice(0, 12)}`))).toBe(t);
    }
    const ordered = times.map((t) => uuid(t));
    expect([...ordered].sort()).toEqual(ordered);
  });
});
