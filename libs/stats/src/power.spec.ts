import { describe, expect, it } from 'vitest';
import { sampleSizeFixed, sampleSizeSequential } from './power';

describe('sample sizes', () => {
  it('asks for about four times the units to detect half the effect', () => {
    const big = sampleSizeFixed({ baselineRate: 0.1, mde: 0.1 }).perArm;
    const small = sampleSizeFixed({ baselineRate: 0.1, mde: 0.05 }).perArm;
    expect(small / big).toBeGreaterThan(3.7);
    expect(small / big).toBeLessThan(4.3);
  });

  it('charges roughly 1.9× the fixed-horizon sample for the right to peek at alpha 0.05', () => {
    const o = { baselineMean: 10, baselineSd: 2, mde: 0.03 };
    const ratio = sampleSizeSequential(o).perArm / sampleSizeFixed(o).perArm;
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.0);
  });

  it('reports the total over the given number of arms, perArm staying the planned sample size', () => {
    const two = sampleSizeSequential({ baselineRate: 0.1, mde: 0.05 });
    const three = sampleSizeSequential({ baselineRate: 0.1, mde: 0.05, arms: 3 });
    expect(three.perArm).toBe(two.perArm);
    expect(three).toMatchObject({ arms: 3, total: 3 * two.perArm });
    expect(sampleSizeFixed({ baselineRate: 0.1, mde: 0.05, arms: 1 })).toMatchObject({
      defined: false,
      reason: 'arms must be an integer ≥ 2',
    });
  });

  it('reports both per-arm and two-arm totals and the absolute effect it planned for', () => {
    const r = sampleSizeSequential({ baselineRate: 0.2, mde: 0.1 });
    expect(r).toMatchObject({ method: 'confidence-sequence', defined: true, total: 2 * r.perArm });
    expect(r.params.absoluteEffect).toBeCloseTo(0.02, 15);
  });

  it.each([
    [{ baselineRate: 0.1, mde: 0 }, 'mde'],
    [{ baselineRate: 0, mde: 0.1 }, 'baselineRate'],
    [{ baselineRate: 0.95, mde: 0.1 }, '(1 + mde)'],
    [{ baselineMean: 0, baselineSd: 1, mde: 0.1 }, 'baselineMean'],
    [{ baselineMean: 5, baselineSd: 0, mde: 0.1 }, 'baselineSd'],
    [{ mde: 0.1 }, 'give baselineRate'],
    [{ baselineRate: 0.1, mde: 0.1, power: 1 }, 'power'],
  ])('returns a reason instead of a number for %j', (options, reason) => {
    for (const f of [sampleSizeFixed, sampleSizeSequential]) {
      const r = f(options);
      expect(r).toMatchObject({ defined: false, perArm: 0, total: 0 });
      expect(r.reason).toContain(reason);
    }
  });
});
