import type { MetricType, ObservedBaselineDto } from '@strata/contracts';
import { ratioArmMoments } from '@strata/stats';
import type { ArmAggregate } from '../result/results-builder';

/**
 * Pure: a metric's observed baseline from one arm's sufficient statistics, in the terms the power
 * calculator takes. Conversion → the rate; count and mean → the per-unit mean and sample SD;
 * ratio → the ratio and its delta-method per-unit SD (the variance the results use). Null when
 * the numbers define nothing (fewer than 2 units, a ratio without denominator).
 */
export function observedBaseline(type: MetricType, a: ArmAggregate): ObservedBaselineDto | null {
  if (a.n < 2) return null;
  switch (type) {
    case 'conversion':
      return { kind: 'rate', rate: a.sum / a.n, n: a.n };
    case 'count':
    case 'mean': {
      const mean = a.sum / a.n;
      return { kind: 'mean', mean, sd: Math.sqrt(Math.max(0, (a.sumSq - a.n * mean * mean) / (a.n - 1))), n: a.n };
    }
    case 'ratio': {
      const m = ratioArmMoments({
        n: a.n,
        sumNum: a.sum,
        sumNumSq: a.sumSq,
        sumDen: a.sumDen,
        sumDenSq: a.sumDenSq,
        sumNumDen: a.sumNumDen,
      });
      return m.ok ? { kind: 'mean', mean: m.ratio, sd: Math.sqrt(m.variance * a.n), n: a.n } : null;
    }
  }
}
