import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from './rate-limiter';

describe('TokenBucketLimiter', () => {
  it('lets a burst through, then one request per 1/rps seconds, per key', () => {
    let now = 0;
    const l = new TokenBucketLimiter(2, 3, () => now);
    expect([l.take('k'), l.take('k'), l.take('k'), l.take('k')]).toEqual([0, 0, 0, 1]);
    expect(l.take('other')).toBe(0);
    now += 500;
    expect(l.take('k')).toBe(0);
    expect(l.take('k')).toBe(1);
  });

  it('is off when rps is 0', () => {
    const l = new TokenBucketLimiter(0, 1);
    for (let i = 0; i < 100; i++) expect(l.take('k')).toBe(0);
  });
});
