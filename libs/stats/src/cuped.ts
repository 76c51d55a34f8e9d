import { armFromMoments } from './arm';
import type { ArmStats, CovariateArmStats } from './types';

export interface CupedResult {
  /** False when θ could not be estimated; `arms` are then the unadjusted arms. */
  defined: boolean;
  reason?: string;
  method: 'cuped';
  /** θ = Cov(y, x) / Var(x), pooled over all units of all arms. */
  theta: number;
  /** Pooled covariate mean x̄ that every arm is centred on. */
  covariateMean: number;
  /** Adjusted arm statistics: feed them to welchTTest, relativeLiftDelta, the sequential methods… */
  arms: ArmStats[];
  /** Per arm, 1 − Var(y_adj)/Var(y): the share of variance removed (0 when undefined). */
  varianceReduction: number[];
}

/**
 * CUPED (Deng, Xu, Kohavi & Walker 2013): y_adj = y − θ(x − x̄) with a pre-exposure covariate x.
 *
 * θ is pooled over arms by summing all arms' sufficient statistics, so every arm is adjusted
 * with the same coefficient (an arm-specific θ would bias the difference). Because x is measured
 * before exposure, E[x] is equal across arms and the adjustment leaves the difference unbiased.
 * θ is treated as known, which is the standard first-order approximation.
 *
 * Per arm: mean_adj = ȳ − θ(x̄_arm − x̄), Var_adj = s_y² − 2θ s_xy + θ² s_x² (n − 1 moments),
 * returned as ArmStats so the same tests run on adjusted data.
 */
export function cupedAdjust(arms: CovariateArmStats[]): CupedResult {
  const unadjusted = (reason: string): CupedResult => ({
    defined: false,
    reason,
    method: 'cuped',
    theta: 0,
    covariateMean: 0,
    arms: arms.map(({ n, sum, sumSq }) => ({ n, sum, sumSq })),
    varianceReduction: arms.map(() => 0),
  });
  if (arms.length === 0) return unadjusted('no arms');
  for (const a of arms) {
    if (![a.n, a.sum, a.sumSq, a.covSum, a.covSumSq, a.crossSum].every(Number.isFinite)) {
      return unadjusted('non-finite input statistics');
    }
  }
  let n = 0,
    sx = 0,
    sxx = 0,
    sy = 0,
    sxy = 0;
  for (const a of arms) {
    n += a.n;
    sx += a.covSum;
    sxx += a.covSumSq;
    sy += a.sum;
    sxy += a.crossSum;
  }
  if (n < 3) return unadjusted('fewer than 3 units in total: cannot estimate theta');
  const varX = (sxx - (sx * sx) / n) / (n - 1);
  if (!(varX > Math.abs(sxx / n) * 1e-13)) return unadjusted('covariate has zero variance');
  const theta = (sxy - (sx * sy) / n) / (n - 1) / varX;
  const xBar = sx / n;
  const adjusted: ArmStats[] = [];
  const reduction: number[] = [];
  for (const a of arms) {
    if (a.n < 1) {
      adjusted.push({ n: a.n, sum: a.sum, sumSq: a.sumSq });
      reduction.push(0);
      continue;
    }
    const my = a.sum / a.n;
    const mx = a.covSum / a.n;
    const adjMean = my - theta * (mx - xBar);
    if (a.n < 2) {
      adjusted.push(armFromMoments(a.n, adjMean, 0));
      reduction.push(0);
      continue;
    }
    const vy = Math.max(0, (a.sumSq - a.n * my * my) / (a.n - 1));
    const vx = Math.max(0, (a.covSumSq - a.n * mx * mx) / (a.n - 1));
    const cxy = (a.crossSum - a.n * mx * my) / (a.n - 1);
    const adjVar = Math.max(0, vy - 2 * theta * cxy + theta * theta * vx);
    adjusted.push(armFromMoments(a.n, adjMean, adjVar));
    reduction.push(vy > 0 ? 1 - adjVar / vy : 0);
  }
  return { defined: true, method: 'cuped', theta, covariateMean: xBar, arms: adjusted, varianceReduction: reduction };
}
