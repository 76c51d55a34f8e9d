import { describe, expect, it } from 'vitest';
import { ExposureCache } from './lru';

describe('ExposureCache', () => {
  it('reports a pair as new once, then as seen', () => {
    const c = new ExposureCache(10);
    expect(c.add('e', 'u1', 'control')).toBe(true);
    expect(c.add('e', 'u1', 'control')).toBe(false);
    expect(c.add('e', 'u2', 'control')).toBe(true);
  });

  it('treats a changed variant (re-randomised experiment) as a new exposure', () => {
    const c = new ExposureCache(10);
    c.add('e', 'k', 'control');
    expect(c.add('e', 'k', 'treatment')).toBe(true);
    expect(c.add('e', 'k', 'treatment')).toBe(false);
  });

  it('never holds more than its capacity and evicts the least recently used pair', () => {
    const c = new ExposureCache(4);
    for (const k of ['a', 'b', 'c', 'd']) c.add('e', k, 'v');
    // Three newer pairs push out the three oldest (a, b, c).
    for (let i = 0; i < 3; i++) c.add('e', `x${i}`, 'v');
    expect(c.size).toBe(4);
    expect(c.add('e', 'a', 'v')).toBe(true); // "a" was among the oldest: evicted
    for (let i = 0; i < 1000; i++) c.add('e', `y${i}`, 'v');
    expect(c.size).toBe(4);
  });

  it('keeps experiments apart: the same unit in two experiments is two pairs', () => {
    const c = new ExposureCache(10);
    expect(c.add('a', 'u1', 'control')).toBe(true);
    expect(c.add('b', 'u1', 'control')).toBe(true);
    expect(c.add('a', 'u1', 'control')).toBe(false);
    expect(c.size).toBe(2);
  });

  it('keeps a frequently seen pair while newer pairs stream through', () => {
    const c = new ExposureCache(8);
    c.add('e', 'hot', 'v');
    for (let i = 0; i < 100; i++) {
      expect(c.add('e', 'hot', 'v')).toBe(false);
      c.add('e', `cold${i}`, 'v');
    }
  });
});
