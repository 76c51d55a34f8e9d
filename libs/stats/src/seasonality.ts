import { absoluteMoments, type Moments } from './comparison-moments';
import { armFromMoments } from './arm';
import { chiSquareSurvival, twoSidedNormalP, twoSidedTP } from './distributions';
import { StatsInputError } from './input-error';
import { proportionMoments } from './proportion-moments';
import type { ArmStats, CovariateArmStats } from './types';

/**
 * Seasonality and regional differences: novelty (effect by exposure-day cohort), heterogeneity
 * across declared segments, post-stratification, and the minimum-duration rule. Pure functions
 * over per-cohort / per-segment sufficient statistics.
 */

/** One group's effect estimate (treatment − control) and its variance. */
export interface GroupEffect {
  estimate: number;
  variance: number;
}

/** Per-group absolute effect from arm statistics; null when a group cannot be estimated. */
export function groupEffect(control: ArmStats, treatment: ArmStats, kind: 'mean' | 'proportion' = 'mean'): GroupEffect | null {
  const m: Moments = kind === 'proportion' ? proportionMoments(control, treatment) : absoluteMoments(control, treatment);
  return m.ok ? { estimate: m.estimate, variance: m.variance } : null;
}

function checkLevel(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new StatsInputError('alpha must be in (0, 1)');
}

function checkEffects(effects: readonly GroupEffect[], what: string): void {
  for (const e of effects) {
    if (!(Number.isFinite(e.estimate) && Number.isFinite(e.variance) && e.variance > 0)) {
      throw new StatsInputError(`${what}: every group needs a finite estimate and a positive variance`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// (a) Novelty: trend of the effect over exposure-day cohorts

export interface CohortEffect extends GroupEffect {
  /** Exposure day of the cohort (0 = first day of the experiment): units first exposed that day. */
  day: number;
}

export interface NoveltyResult {
  method: 'weighted-trend-knapp-hartung';
  defined: boolean;
  reason?: string;
  /** Change of the effect per day (weighted least squares, weights 1/variance). */
  slope: number;
  slopeStandardError: number;
  /** Knapp–Hartung t statistic b/SE(b), t with k − 2 df. */
  z: number;
  pValue: number;
  /** Inverse-variance pooled effect over cohorts. */
  pooledEffect: number;
  /** p ≤ alpha. */
  flagged: boolean;
  /** 'fading' when the slope runs against the pooled effect, 'growing' when with it. */
  pattern: 'fading' | 'growing' | 'none';
  params: Record<string, number | string>;
}

/**
 * Trend test for novelty / primacy effects: regress the per-cohort effects θ_d on the cohort day d
 * by weighted least squares with weights w_d = 1/v_d (the inverse of each cohort effect's
 * variance): slope b = Σw(d − d̄)(θ − θ̄)/Σw(d − d̄)², Var(b) = φ/Σw(d − d̄)² — a fixed-effect
 * meta-regression (Thompson & Higgins 2002, "How should meta-regression analyses be undertaken
 * and interpreted?", Stat. Med. 21). The Knapp–Hartung adjustment (Knapp & Hartung 2003, Stat.
 * Med. 22) scales the variance by φ = max(1, Q_res/(k − 2)), Q_res the weighted residual sum of
 * squares, and refers t = b/SE(b) to Student's t with k − 2 df: when the effect does not change
 * with the cohort this keeps the false alarm rate at alpha (default 0.05) for one look even with
 * estimated cohort variances and day-to-day noise beyond sampling (weekday effects), which the
 * plain z-test does not (5.5% at alpha 5% in our simulation). Needs ≥ 3 cohorts.
 */
export function noveltyTrend(cohorts: readonly CohortEffect[], options: { alpha?: number } = {}): NoveltyResult {
  const alpha = options.alpha ?? 0.05;
  checkLevel(alpha);
  checkEffects(cohorts, 'noveltyTrend');
  const params = { alpha, cohorts: cohorts.length };
  const none = (reason: string): NoveltyResult => ({
    method: 'weighted-trend-knapp-hartung',
    defined: false,
    reason,
    slope: 0,
    slopeStandardError: 0,
    z: 0,
    pValue: 1,
    pooledEffect: 0,
    flagged: false,
    pattern: 'none',
    params,
  });
  if (cohorts.length < 3) return none('fewer than 3 exposure-day cohorts');
  let sw = 0,
    swd = 0,
    swy = 0;
  for (const c of cohorts) {
    const w = 1 / c.variance;
    sw += w;
    swd += w * c.day;
    swy += w * c.estimate;
  }
  const dBar = swd / sw;
  const yBar = swy / sw;
  let sxx = 0,
    sxy = 0;
  for (const c of cohorts) {
    const w = 1 / c.variance;
    sxx += w * (c.day - dBar) ** 2;
    sxy += w * (c.day - dBar) * (c.estimate - yBar);
  }
  if (!(sxx > 0)) return none('every cohort has the same day');
  const slope = sxy / sxx;
  let qRes = 0;
  for (const c of cohorts) qRes += (c.estimate - yBar - slope * (c.day - dBar)) ** 2 / c.variance;
  const df = cohorts.length - 2;
  const phi = Math.max(1, qRes / df);
  const se = Math.sqrt(phi / sxx);
  const z = slope / se;
  const pValue = twoSidedTP(z, df);
  const flagged = pValue <= alpha;
  const pattern = !flagged ? 'none' : Math.sign(slope) === -Math.sign(yBar) ? 'fading' : 'growing';
  return {
    method: 'weighted-trend-knapp-hartung',
    defined: true,
    slope,
    slopeStandardError: se,
    z,
    pValue,
    pooledEffect: yBar,
    flagged,
    pattern,
    params: { ...params, df, dispersion: phi },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) Heterogeneity across segments

export interface SegmentEffect extends GroupEffect {
  segment: string;
}

export interface SegmentDeviation {
  segment: string;
  estimate: number;
  /** Effect of the other segments pooled (inverse-variance). */
  othersEffect: number;
  z: number;
  /** Bonferroni-adjusted over the dimension's segments. */
  adjustedPValue: number;
  highlighted: boolean;
}

export interface HeterogeneityResult {
  method: 'cochran-q';
  dimension: string;
  defined: boolean;
  reason?: string;
  q: number;
  df: number;
  pValue: number;
  /** Holm-adjusted over the declared dimensions. */
  adjustedPValue: number;
  /** Higgins & Thompson's I² = max(0, (Q − df)/Q): share of the spread beyond chance. */
  iSquared: number;
  pooledEffect: number;
  flagged: boolean;
  segments: SegmentDeviation[];
}

/** Cochran's Q of one dimension's segment effects (raw p, before the correction across dimensions). */
function cochranQ(dimension: string, segs: readonly SegmentEffect[], alpha: number): HeterogeneityResult {
  const base = {
    method: 'cochran-q' as const,
    dimension,
    q: 0,
    df: 0,
    pValue: 1,
    adjustedPValue: 1,
    iSquared: 0,
    pooledEffect: 0,
    flagged: false,
    segments: [],
  };
  if (segs.length < 2) return { ...base, defined: false, reason: 'fewer than 2 segments with data' };
  const w = segs.map((s) => 1 / s.variance);
  const sw = w.reduce((a, b) => a + b, 0);
  const pooled = segs.reduce((a, s, i) => a + w[i] * s.estimate, 0) / sw;
  const q = segs.reduce((a, s, i) => a + w[i] * (s.estimate - pooled) ** 2, 0);
  const df = segs.length - 1;
  const pValue = chiSquareSurvival(q, df);
  const k = segs.length;
  const segments = segs.map((s, i) => {
    const swOthers = sw - w[i];
    const others = (pooled * sw - w[i] * s.estimate) / swOthers;
    const z = (s.estimate - others) / Math.sqrt(s.variance + 1 / swOthers);
    const adjustedPValue = Math.min(1, k * twoSidedNormalP(z));
    return { segment: s.segment, estimate: s.estimate, othersEffect: others, z, adjustedPValue, highlighted: false };
  });
  return {
    ...base,
    defined: true,
    q,
    df,
    pValue,
    adjustedPValue: pValue,
    iSquared: q > 0 ? Math.max(0, (q - df) / q) : 0,
    pooledEffect: pooled,
    segments,
    flagged: pValue <= alpha,
  };
}

/**
 * Does the effect differ between segments? For each declared dimension (country, platform, …)
 * Cochran's Q = Σ w_s(θ_s − θ̄)², w_s = 1/v_s, is χ²_{k−1} under a common effect (Cochran 1954,
 * "The combination of estimates from different experiments", Biometrics 10). The dimensions' p-values are
 * Holm-adjusted (Holm 1979, Scand. J. Stat. 6), so the chance that any homogeneous dimension is
 * flagged stays ≤ alpha (default 0.05). In a flagged dimension, a segment is highlighted when its
 * effect differs from the other segments' pooled effect at Bonferroni-adjusted p ≤ alpha.
 */
export function segmentHeterogeneity(
  dimensions: ReadonlyArray<{ dimension: string; segments: readonly SegmentEffect[] }>,
  options: { alpha?: number } = {},
): HeterogeneityResult[] {
  const alpha = options.alpha ?? 0.05;
  checkLevel(alpha);
  for (const d of dimensions) checkEffects(d.segments, `segmentHeterogeneity(${d.dimension})`);
  const results = dimensions.map((d) => cochranQ(d.dimension, d.segments, alpha));
  const adjusted = holm(results.map((r) => r.pValue));
  results.forEach((r, i) => {
    r.adjustedPValue = adjusted[i];
    r.flagged = r.defined && adjusted[i] <= alpha;
    for (const s of r.segments) s.highlighted = r.flagged && s.adjustedPValue <= alpha;
  });
  return results;
}

/** Holm step-down adjusted p-values: p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)). */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach((idx, j) => {
    running = Math.max(running, Math.min(1, (m - j) * pValues[idx]));
    out[idx] = running;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// (c) Post-stratification

export interface Stratum {
  name: string;
  control: ArmStats | CovariateArmStats;
  treatment: ArmStats | CovariateArmStats;
  /** Population share of the stratum; default its share of the experiment's units. */
  weight?: number;
}

export interface PostStratified {
  method: 'post-stratification';
  absolute: Moments;
  /** (T − C)/|C| with T = Σ W_h ȳ_t,h, C = Σ W_h ȳ_c,h, by the delta method. */
  relative: Moments;
  nControl: number;
  nTreatment: number;
  cuped: { applied: boolean; theta: number; reason?: string };
  params: Record<string, number | string>;
}

function isCovariate(a: ArmStats | CovariateArmStats): a is CovariateArmStats {
  const c = a as Partial<CovariateArmStats>;
  return c.covSum !== undefined && c.covSumSq !== undefined && c.crossSum !== undefined;
}

function varOf(a: ArmStats): number {
  const ss = a.m2 ?? a.sumSq - (a.sum * a.sum) / a.n;
  return Math.max(0, ss) / (a.n - 1);
}

/**
 * Post-stratified difference in means (Miratrix, Sekhon & Yu 2013, "Adjusting treatment effect
 * estimates by post-stratification in randomized experiments", JRSS B 75(2)):
 *   τ̂_ps = Σ_h W_h (ȳ_t,h − ȳ_c,h),  Var(τ̂_ps | n_t,h, n_c,h) = Σ_h W_h² (s²_t,h/n_t,h + s²_c,h/n_c,h),
 * W_h the stratum share (given population weights, or the experiment's own share N_h/N). The
 * variance is the paper's conditional variance given the within-stratum arm sizes (its §2; the
 * unconditional one adds O(1/n²) terms); it removes the between-strata part of the variance, so a
 * strong regional baseline difference no longer widens the interval.
 *
 * With `cuped` and covariate sums in every cell, CUPED is applied **within** the strata: every
 * stratum × arm cell is adjusted with one θ_w = Σ_cells S_xy / Σ_cells S_xx, the pooled
 * within-cell regression slope of y on the pre-exposure covariate x (S the centred cross/square
 * sums of a cell), y_adj = y − θ_w(x − x̄), then the adjusted cells are post-stratified:
 *   τ̂ = Σ_h W_h [(ȳ_t,h − ȳ_c,h) − θ_w (x̄_t,h − x̄_c,h)].
 * Why within: CUPED with two covariates, x and the stratum indicators, is the regression of y on
 * both (Deng, Xu, Kohavi & Walker 2013, WSDM, §3.3 treat stratification as CUPED with a discrete
 * covariate); by Frisch–Waugh–Lovell its x-coefficient is the slope of y on x within the cells.
 * θ pooled over everything (`cupedAdjust`) would also absorb the between-strata slope of the
 * baselines, which post-stratification already removes, and leave more residual variance. x
 * precedes exposure, so E[x̄_t,h − x̄_c,h] = 0 and the estimate stays unbiased; θ_w is treated as
 * known (first order, as in CUPED). Strata need ≥ 2 units per arm; merge small ones first
 * (`mergeSmallStrata`). The strata must be fixed before exposure (an attribute of the unit at its
 * first exposure), as the paper requires.
 */
export function postStratify(strata: readonly Stratum[], options: { cuped?: boolean } = {}): PostStratified {
  const nControl = strata.reduce((a, s) => a + s.control.n, 0);
  const nTreatment = strata.reduce((a, s) => a + s.treatment.n, 0);
  const params: Record<string, number | string> = { strata: strata.length };
  const fail = (reason: string): PostStratified => ({
    method: 'post-stratification',
    absolute: { ok: false, reason },
    relative: { ok: false, reason },
    nControl,
    nTreatment,
    cuped: { applied: false, theta: 0, reason: 'not attempted' },
    params,
  });
  if (strata.length === 0) return fail('no strata');
  for (const s of strata) {
    if (s.control.n < 2 || s.treatment.n < 2) return fail(`stratum ${s.name} has fewer than 2 units in an arm: merge small strata first`);
    if (s.weight !== undefined && !(Number.isFinite(s.weight) && s.weight >= 0))
      throw new StatsInputError(`stratum ${s.name}: weight must be ≥ 0`);
  }
  let cells: ArmStats[] = strata.flatMap((s) => [s.control, s.treatment]);
  let cuped: PostStratified['cuped'] = { applied: false, theta: 0, reason: options.cuped ? 'no covariate statistics' : 'disabled' };
  if (options.cuped) {
    const cov = strata.flatMap((s) => [s.control, s.treatment]);
    if (cov.every(isCovariate)) {
      const c = withinCellCuped(cov);
      if (typeof c === 'string') cuped = { applied: false, theta: 0, reason: c };
      else {
        cells = c.arms;
        cuped = { applied: true, theta: c.theta };
      }
    }
  }
  const given = strata.every((s) => s.weight !== undefined);
  const raw = strata.map((s) => (given ? (s.weight as number) : s.control.n + s.treatment.n));
  const total = raw.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return fail('stratum weights sum to 0');
  let t = 0,
    c = 0,
    vt = 0,
    vc = 0;
  strata.forEach((_, h) => {
    const w = raw[h] / total;
    const ctl = cells[2 * h];
    const trt = cells[2 * h + 1];
    t += w * (trt.sum / trt.n);
    c += w * (ctl.sum / ctl.n);
    vt += (w * w * varOf(trt)) / trt.n;
    vc += (w * w * varOf(ctl)) / ctl.n;
  });
  params.weights = given ? 'given' : 'observed stratum shares';
  params.cuped = cuped.applied ? 'within strata (pooled within-cell slope)' : 'not applied';
  if (cuped.applied) params.theta = cuped.theta;
  const v = vt + vc;
  const absolute: Moments = v > 0 ? { ok: true, estimate: t - c, variance: v } : { ok: false, reason: 'zero variance in every stratum' };
  let relative: Moments;
  if (c === 0) relative = { ok: false, reason: 'zero post-stratified control mean: relative lift is undefined' };
  else if (!(v > 0)) relative = { ok: false, reason: 'zero variance in every stratum' };
  else relative = { ok: true, estimate: (t - c) / Math.abs(c), variance: vt / (c * c) + (t * t * vc) / c ** 4 };
  return { method: 'post-stratification', absolute, relative, nControl, nTreatment, cuped, params };
}

/**
 * CUPED within cells: θ_w = Σ S_xy / Σ S_xx over the cells (each centred on its own means), every
 * cell's y adjusted by −θ_w(x̄_cell − x̄) with x̄ the overall covariate mean; a reason when θ_w
 * cannot be estimated.
 */
function withinCellCuped(cells: readonly CovariateArmStats[]): { theta: number; arms: ArmStats[] } | string {
  for (const a of cells) {
    if (![a.n, a.sum, a.sumSq, a.covSum, a.covSumSq, a.crossSum].every(Number.isFinite)) return 'non-finite input statistics';
  }
  let sxx = 0,
    sxy = 0,
    n = 0,
    sx = 0,
    scale = 0;
  for (const a of cells) {
    sxx += a.covSumSq - (a.covSum * a.covSum) / a.n;
    sxy += a.crossSum - (a.covSum * a.sum) / a.n;
    n += a.n;
    sx += a.covSum;
    scale += a.covSumSq;
  }
  if (!(sxx > scale * 1e-13)) return 'covariate has zero variance within the strata';
  const theta = sxy / sxx;
  const xBar = sx / n;
  const arms = cells.map((a) => {
    const my = a.sum / a.n;
    const mx = a.covSum / a.n;
    const syy = Math.max(0, a.sumSq - a.n * my * my);
    const cxx = Math.max(0, a.covSumSq - a.n * mx * mx);
    const cxy = a.crossSum - a.n * mx * my;
    const adjVar = Math.max(0, syy - 2 * theta * cxy + theta * theta * cxx) / (a.n - 1);
    return armFromMoments(a.n, my - theta * (mx - xBar), adjVar);
  });
  return { theta, arms };
}

function addArms(a: ArmStats | CovariateArmStats, b: ArmStats | CovariateArmStats): ArmStats | CovariateArmStats {
  const base: ArmStats = { n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
  if (isCovariate(a) && isCovariate(b)) {
    return { ...base, covSum: a.covSum + b.covSum, covSumSq: a.covSumSq + b.covSumSq, crossSum: a.crossSum + b.crossSum };
  }
  // m2 cannot be added without the means; the merged arm falls back to Σy² (fine for small strata).
  return base;
}

/** Merges strata with fewer than `minPerArm` units in an arm into one '(other)' stratum. */
export function mergeSmallStrata(strata: readonly Stratum[], minPerArm = 30): Stratum[] {
  const keep = strata.filter((s) => s.control.n >= minPerArm && s.treatment.n >= minPerArm);
  const small = strata.filter((s) => !(s.control.n >= minPerArm && s.treatment.n >= minPerArm));
  if (small.length === 0) return [...keep];
  const merged = small.reduce((a, s) => ({
    name: '(other)',
    control: addArms(a.control, s.control),
    treatment: addArms(a.treatment, s.treatment),
    weight: a.weight === undefined || s.weight === undefined ? undefined : a.weight + s.weight,
  }));
  return [...keep, { ...merged, name: '(other)' }];
}

// ---------------------------------------------------------------------------------------------
// (d) Minimum duration

export const DEFAULT_MIN_DURATION_DAYS = 7;

export interface DurationCheck {
  ready: boolean;
  daysRun: number;
  minDurationDays: number;
  /** ISO time from which the duration rule is satisfied. */
  readyAt: string;
  reason: string;
}

/**
 * "Ready to ship" only once the experiment has covered a full weekly cycle (default 7 days), so a
 * weekday-heavy start cannot decide for the weekend; the reason says what it waits for.
 */
export function minDurationCheck(startedAt: Date | string, now: Date | string, minDurationDays = DEFAULT_MIN_DURATION_DAYS): DurationCheck {
  const start = new Date(startedAt).getTime();
  const at = new Date(now).getTime();
  if (!Number.isFinite(start) || !Number.isFinite(at)) throw new StatsInputError('minDurationCheck: invalid date');
  if (!(Number.isFinite(minDurationDays) && minDurationDays >= 0))
    throw new StatsInputError('minDurationCheck: minDurationDays must be ≥ 0');
  const daysRun = Math.max(0, (at - start) / 86_400_000);
  const readyAt = new Date(start + minDurationDays * 86_400_000).toISOString();
  const ready = daysRun >= minDurationDays;
  const reason = ready
    ? `ran ${daysRun.toFixed(1)} days, at least the minimum of ${minDurationDays} (a full weekly cycle)`
    : `waits for a full weekly cycle: ${daysRun.toFixed(1)} of ${minDurationDays} days run, ready to ship no earlier than ${readyAt}`;
  return { ready, daysRun, minDurationDays, readyAt, reason };
}
