import { describe, expect, it } from 'vitest';
import { verdictReference as ref } from '../test/reference/verdict-reference-values';
import { eBenjaminiHochberg } from './multiple-comparisons';
import { resultsTable } from './results-table';
import type { ArmStats } from './types';

describe('eBenjaminiHochberg', () => {
  it.each(ref.eBh)('rejects what the definition k* = max{k : e_(k) ≥ m/(αk)} rejects for $eValues', (c) => {
    expect(eBenjaminiHochberg([...c.eValues], c.alpha).rejected).toEqual(c.rejected);
  });

  it('labels itself and keeps the BY interval level R·α/m', () => {
    const r = eBenjaminiHochberg([400, 60, 35, 1], 0.05);
    expect(r.method).toBe('e-bh');
    expect(r.ciAlpha).toBeCloseTo((3 * 0.05) / 4, 15);
  });
});

describe('resultsTable with e-BH (the default)', () => {
  const arm = (n: number, m: number, sd: number): ArmStats => ({ n, sum: n * m, sumSq: (n - 1) * sd * sd + n * m * m });

  it('feeds e-BH the current e-value, not the carried-over running minimum p', () => {
    const metric = {
      name: 'm',
      control: arm(3000, 10, 2),
      variants: [{ name: 'B', stats: arm(3000, 10.02, 2), previous: { sequentialAbsolute: 1e-6 } }],
    };
    const other = { name: 'o', control: arm(3000, 5, 1), variants: [{ name: 'B', stats: arm(3000, 5, 1) }] };
    const t = resultsTable([metric, other]);
    const e = t.comparisons[0].sequential.absolute;
    // The running p stays monotone (1e-6) but the FDR decision is e-BH on this read's evidence.
    expect(e.pValue).toBe(1e-6);
    expect(e.adjustedPValue).toBeGreaterThan(0.5);
    expect(e.params.correction).toBe('e-bh');
    expect(t.comparisons[0].fixed.absolute.params.correction).toBe('benjamini-hochberg');
  });
});
