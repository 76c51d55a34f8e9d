import { describe, expect, it } from 'vitest';
import { createRng } from './random';

describe('createRng', () => {
  it('replays the same sequence for the same seed, so simulations are reproducible', () => {
    const a = createRng(42);
    const b = createRng(42);
    for (let i = 0; i < 100; i++) expect(a.normal()).toBe(b.normal());
    expect(createRng(43).uniform()).not.toBe(createRng(42).uniform());
  });

  it('draws standard normals with mean 0 and variance 1', () => {
    const rng = createRng(7);
    let s = 0;
    let ss = 0;
    const n = 200000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      ss += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(ss / n - 1)).toBeLessThan(0.01);
  });
});
