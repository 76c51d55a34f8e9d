import { describe, expect, it } from 'vitest';
import { AuthFailures } from './auth-failures';

describe('AuthFailures', () => {
  it('refuses a client past the limit until its window ends, and no other client', () => {
    let now = 1_000_000;
    const failures = new AuthFailures({ limit: 3, windowMs: 60_000, maxClients: 100 }, () => now);
    expect([failures.fail('a'), failures.fail('a'), failures.fail('a')]).toEqual([0, 0, 60]);
    expect(failures.retryAfter('a')).toBe(60);
    expect(failures.retryAfter('b')).toBe(0);
    now += 45_500;
    expect(failures.retryAfter('a')).toBe(15);
    now += 14_500;
    expect(failures.retryAfter('a')).toBe(0);
    // A new window starts counting from zero.
    expect(failures.fail('a')).toBe(0);
  });

  it('tracks at most maxClients addresses, dropping ended windows first, then the oldest', () => {
    let now = 0;
    const failures = new AuthFailures({ limit: 2, windowMs: 1000, maxClients: 100 }, () => now);
    for (let i = 0; i < 10_000; i++) {
      now = i;
      failures.fail(`10.0.${i >> 8}.${i & 255}`);
      expect(failures.size).toBeLessThanOrEqual(100);
    }
    // The newest client is still tracked and refused after its second failure.
    failures.fail('10.0.39.15');
    expect(failures.retryAfter('10.0.39.15')).toBeGreaterThan(0);
  });

  it('does nothing with limit 0', () => {
    const failures = new AuthFailures({ limit: 0, windowMs: 1000, maxClients: 10 });
    for (let i = 0; i < 50; i++) expect(failures.fail('a')).toBe(0);
    expect(failures.size).toBe(0);
  });
});
