import { describe, expect, it } from 'vitest';
import { expectRelClose } from '../test/helpers';
import { interactionReference } from '../test/reference/interaction-reference-values';
import { interactionFdr, interactionTest, type InteractionCell } from './interaction';
import { mulberry32 } from './random';

describe('interactionTest', () => {
  it.each(interactionReference.cases)('matches the NumPy/SciPy contrast, Wald χ² and p for $name', (c) => {
    const r = interactionTest({ armsA: [...c.armsA], armsB: [...c.armsB], cells: c.cells.map((x) => ({ ...x })) });
    if (!r.ok) throw new Error(r.reason);
    expect(r.df).toBe(c.df);
    r.contrasts.forEach((k, i) => {
      expectRelClose(k.estimate, c.theta[i], 1e-9);
      expectRelClose(k.se, c.se[i], 1e-9);
    });
    if (c.df === 1) {
      expect(r.method).toBe('interaction-z');
      expectRelClose(r.statistic, (c as { z: number }).z, 1e-9);
    } else {
      expect(r.method).toBe('interaction-wald');
      expectRelClose(r.statistic, c.W, 1e-9);
    }
    expectRelClose(r.pValue, c.p, 1e-7);
  });

  it('is undefined, with a reason, for empty or constant cells', () => {
    const cell = (armA: string, armB: string, n: number, sum: number, sumSq: number): InteractionCell => ({ armA, armB, n, sum, sumSq });
    const missing = interactionTest({
      armsA: ['a0', 'a1'],
      armsB: ['b0', 'b1'],
      cells: [cell('a0', 'b0', 10, 5, 5), cell('a1', 'b0', 10, 5, 5), cell('a0', 'b1', 10, 5, 5)],
    });
    expect(missing).toMatchObject({ ok: false, reason: expect.stringMatching(/fewer than 2/) });
    const constant = interactionTest({
      armsA: ['a0', 'a1'],
      armsB: ['b0', 'b1'],
      cells: ['a0', 'a1'].flatMap((a) => ['b0', 'b1'].map((b) => cell(a, b, 10, 0, 0))),
    });
    expect(constant).toMatchObject({ ok: false, reason: expect.stringMatching(/zero variance/), units: 40 });
  });

  it('gives a ratio metric with every denominator 1 the same test as the plain mean', () => {
    const c = interactionReference.cases[0];
    const plain = interactionTest({ armsA: [...c.armsA], armsB: [...c.armsB], cells: c.cells.map((x) => ({ ...x })) });
    const ratio = interactionTest({
      armsA: [...c.armsA],
      armsB: [...c.armsB],
      ratio: true,
      cells: c.cells.map((x) => ({ ...x, sumDen: x.n, sumDenSq: x.n, sumNumDen: x.sum })),
    });
    if (!plain.ok || !ratio.ok) throw new Error('undefined');
    expectRelClose(ratio.estimate, plain.estimate, 1e-9);
    // Delta-method variance uses 1/n where the mean uses the unbiased s²/n: the same here (x constant).
    expectRelClose(ratio.pValue, plain.pValue, 1e-6);
  });
});

describe('interactionFdr', () => {
  it('matches scipy.stats.false_discovery_control for bh and by', () => {
    const { p, bh, by } = interactionReference.fdr;
    interactionFdr([...p], 0.05, 'bh').adjustedPValues.forEach((x, i) => expectRelClose(x, bh[i], 1e-12));
    interactionFdr([...p], 0.05, 'by').adjustedPValues.forEach((x, i) => expectRelClose(x, by[i], 1e-12));
  });
});

/**
 * Seeded simulation of the integration test's layout: 200 pairs of two-arm experiments, about 125
 * units per cell, a conversion metric at 30 %; each rep tests every pair and applies BH at q over
 * all of them. With every null true, P(any flag) = FDR ≤ q; with 20 real interactions the mean
 * false discovery proportion stays ≤ q·m₀/m.
 */
function simulate(
  reps: number,
  pairs: number,
  effects: number,
  q: number,
  seed: number,
): { anyFlag: number; meanFdp: number; power: number } {
  const u = mulberry32(seed);
  let anyFlag = 0;
  let fdpSum = 0;
  let found = 0;
  for (let r = 0; r < reps; r++) {
    const ps: number[] = [];
    for (let k = 0; k < pairs; k++) {
      const cells: InteractionCell[] = [];
      for (const a of ['a0', 'a1']) {
        for (const b of ['b0', 'b1']) {
          const rate = 0.3 + (k < effects && a === 'a1' && b === 'b1' ? 0.3 : 0);
          let s = 0;
          for (let i = 0; i < 125; i++) if (u() < rate) s++;
          cells.push({ armA: a, armB: b, n: 125, sum: s, sumSq: s });
        }
      }
      const t = interactionTest({ armsA: ['a0', 'a1'], armsB: ['b0', 'b1'], cells });
      ps.push(t.ok ? t.pValue : 1);
    }
    const rejected = interactionFdr(ps, q).rejected;
    const falses = rejected.filter((x, k) => x && k >= effects).length;
    const total = rejected.filter(Boolean).length;
    if (falses > 0) anyFlag++;
    fdpSum += total === 0 ? 0 : falses / total;
    found += rejected.filter((x, k) => x && k < effects).length;
  }
  return { anyFlag: anyFlag / reps, meanFdp: fdpSum / reps, power: effects ? found / (reps * effects) : 0 };
}

describe('BH over all pairs (seeded simulation)', () => {
  it('flags any of 200 null pairs in at most q = 5 % of 1,000 repetitions', () => {
    const { anyFlag } = simulate(1000, 200, 0, 0.05, 1717);
    // SE of a 5 % rate over 1,000 reps is 0.69 %: 3 SE above q, and not absurdly conservative.
    expect(anyFlag).toBeLessThanOrEqual(0.05 + 3 * 0.0069);
    expect(anyFlag).toBeGreaterThan(0.02);
  }, 60_000);

  it('keeps the false discovery proportion at most q with 20 real interactions among 200 pairs, and finds them', () => {
    const { meanFdp, power } = simulate(300, 200, 20, 0.05, 4242);
    expect(meanFdp).toBeLessThanOrEqual(0.05 * 0.9 + 3 * 0.01);
    expect(power).toBeGreaterThan(0.5);
  }, 60_000);
});
