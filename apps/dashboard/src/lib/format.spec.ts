import { describe, expect, it } from 'vitest';
import { formatInt, formatNum, formatPct, formatRelative } from './format';
import { formatCount } from './traffic';

describe('number formatting', () => {
  it('separates thousands in counts, figures and percents', () => {
    expect(formatInt(221210)).toBe('221,210');
    expect(formatCount(10000)).toBe('10,000');
    expect(formatNum(221210.4)).toBe('221,210');
    expect(formatNum(0.012345)).toBe('0.0123');
    // Day one's intervals are wide: a +1234.5 % bound reads with its separator.
    expect(formatPct(12.345)).toBe('+1,234.5%');
    expect(formatPct(-0.0512, 2)).toBe('-5.12%');
    expect(formatPct(0.5, 0, false)).toBe('50%');
    expect(formatPct(Number.NaN)).toBe('—');
  });
});

describe('relative time', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  it('names the largest whole unit, and "just now" under a minute', () => {
    expect(formatRelative('2026-12-03T11:59:30Z', now)).toBe('just now');
    expect(formatRelative('2026-12-03T11:57:00Z', now)).toBe('3 minutes ago');
    expect(formatRelative('2026-12-03T10:00:00Z', now)).toBe('2 hours ago');
    expect(formatRelative('2026-12-02T11:00:00Z', now)).toBe('yesterday');
    expect(formatRelative('2026-11-19T12:00:00Z', now)).toBe('2 weeks ago');
    expect(formatRelative(null, now)).toBe('—');
  });
});
