import { createRng, type CovariateArmStats, type MetricInput } from '../src';

/**
 * A synthetic results-page input: `metrics` metrics × (control + `variants` treatments), each arm
 * summarised from `n` seeded units with a pre-exposure covariate correlated with the outcome.
 * Shared by the results-table spec and bench/stats.ts.
 */
export function syntheticMetrics(seed: number, metrics: number, variants: number, n: number): MetricInput[] {
  const rng = createRng(seed);
  const arm = (mean: number, lift: number): CovariateArmStats => {
    const s: CovariateArmStats = { n, sum: 0, sumSq: 0, covSum: 0, covSumSq: 0, crossSum: 0 };
    for (let i = 0; i < n; i++) {
      const x = mean + 0.25 * mean * rng.normal();
      const y = 0.2 * mean + 0.8 * x + 0.15 * mean * rng.normal() + lift * mean;
      s.sum += y;
      s.sumSq += y * y;
      s.covSum += x;
      s.covSumSq += x * x;
      s.crossSum += x * y;
    }
    return s;
  };
  return Array.from({ length: metrics }, (_, m) => {
    const base = 5 + 3 * m;
    return {
      name: `metric-${m}`,
      control: arm(base, 0),
      // Variant 1 of every metric carries a real 5% lift; the rest are null.
      variants: Array.from({ length: variants }, (_, v) => ({ name: `variant-${v + 1}`, stats: arm(base, v === 0 ? 0.05 : 0) })),
    };
  });
}
