import { chiSquareSurvival, twoSidedNormalP } from './distributions';
import { benjaminiHochberg, type CorrectionResult } from './multiple-comparisons';
import { ratioArmMoments } from './ratio-metric';

/**
 * Interaction between two experiments running at the same time (in different layers, so their
 * assignments are independent): does experiment A's effect on a metric differ between
 * experiment B's arms?
 *
 * The units shared by A and B fall into cells (A arm i, B arm j); each cell gives a mean m_ij with
 * variance v_ij from its sufficient statistics, and the cells are independent (disjoint units).
 * With a_0 and b_0 the controls, the interaction contrasts are the differences of differences
 *
 *   θ_ij = (m_ij − m_0j) − (m_i0 − m_00),   i = 1…K_A−1, j = 1…K_B−1,
 *
 * i.e. A's effect (arm i vs control) under B's arm j minus A's effect under B's control. Under no
 * interaction every θ_ij = 0. For 2 × 2 arms this is one contrast, tested with z = θ/√Var(θ),
 * Var(θ) = v_11 + v_01 + v_10 + v_00. With more arms, the (K_A−1)(K_B−1) contrasts are tested
 * jointly with the Wald statistic W = θᵀ Σ⁻¹ θ, Σ = Cov(θ) = C diag(v) Cᵀ (C the contrast
 * coefficients over cells), asymptotically χ² with (K_A−1)(K_B−1) degrees of freedom under the
 * null (the cell means are asymptotically normal). This is the test of the A×B interaction term
 * in a two-way layout with cell-specific (heteroskedastic) variances, e.g. Montgomery, "Design and
 * Analysis of Experiments", ch. 5, and for online experiments Kohavi, Tang & Xu, "Trustworthy
 * Online Controlled Experiments" (2020), §"Interaction between experiments".
 *
 * The contrast is symmetric in A and B (θ_ij is also B's effect of arm j under A's arm i minus
 * under A's control); which experiment's metric is analysed is what makes two tests per pair.
 */

/** One cell's sufficient statistics (per-unit values y; for ratio metrics also the denominators x). */
export interface InteractionCell {
  armA: string;
  armB: string;
  n: number;
  sum: number;
  sumSq: number;
  sumDen?: number;
  sumDenSq?: number;
  sumNumDen?: number;
}

export interface InteractionInput {
  /** A's arms, control first. */
  armsA: string[];
  /** B's arms, control first. */
  armsB: string[];
  /** Missing cells count as empty (and make the test undefined). */
  cells: InteractionCell[];
  /** Each cell's statistic is Σnum/Σden (delta method) instead of the mean of y. */
  ratio?: boolean;
}

export interface InteractionContrast {
  armA: string;
  armB: string;
  /** θ_ij: A's effect of armA under B's armB minus under B's control. */
  estimate: number;
  se: number;
}

export type InteractionResult =
  | {
      ok: true;
      method: 'interaction-z' | 'interaction-wald';
      df: number;
      /** z for one contrast (2 × 2), else the Wald χ². */
      statistic: number;
      pValue: number;
      /** The contrast with the largest |θ/se| (the only one for 2 × 2). */
      estimate: number;
      se: number;
      contrasts: InteractionContrast[];
      units: number;
    }
  | { ok: false; reason: string; units: number };

interface CellMoments {
  mean: number;
  variance: number;
}

function cellMoments(c: InteractionCell | undefined, ratio: boolean): CellMoments | string {
  if (!c || c.n < 2) return 'a cell has fewer than 2 units';
  if (ratio) {
    const r = ratioArmMoments({
      n: c.n,
      sumNum: c.sum,
      sumNumSq: c.sumSq,
      sumDen: c.sumDen ?? 0,
      sumDenSq: c.sumDenSq ?? 0,
      sumNumDen: c.sumNumDen ?? 0,
    });
    return r.ok ? { mean: r.ratio, variance: r.variance } : r.reason;
  }
  if (![c.n, c.sum, c.sumSq].every(Number.isFinite)) return 'non-finite cell statistics';
  const mean = c.sum / c.n;
  const s2 = Math.max(0, (c.sumSq - c.n * mean * mean) / (c.n - 1));
  return { mean, variance: s2 / c.n };
}

/** Cholesky solve of S x = b for a small symmetric positive-definite S; null when not positive definite. */
function choleskySolve(s: number[][], b: number[]): number[] | null {
  const d = b.length;
  const l = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let acc = s[i][j];
      for (let k = 0; k < j; k++) acc -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(acc > 1e-300 * Math.max(1, Math.abs(s[i][i])))) return null;
        l[i][i] = Math.sqrt(acc);
      } else l[i][j] = acc / l[j][j];
    }
  }
  const y = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    let acc = b[i];
    for (let k = 0; k < i; k++) acc -= l[i][k] * y[k];
    y[i] = acc / l[i][i];
  }
  const x = new Array<number>(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let acc = y[i];
    for (let k = i + 1; k < d; k++) acc -= l[k][i] * x[k];
    x[i] = acc / l[i][i];
  }
  return x;
}

/** The interaction test of A × B on one metric from per-cell sufficient statistics (see above). */
export function interactionTest(input: InteractionInput): InteractionResult {
  const { armsA, armsB } = input;
  const byCell = new Map(input.cells.map((c) => [`${c.armA}\u0000${c.armB}`, c]));
  const units = input.cells.reduce((a, c) => a + (Number.isFinite(c.n) ? c.n : 0), 0);
  if (armsA.length < 2 || armsB.length < 2) return { ok: false, reason: 'each experiment needs at least 2 arms', units };
  const moments: CellMoments[][] = [];
  for (const a of armsA) {
    const row: CellMoments[] = [];
    for (const b of armsB) {
      const m = cellMoments(byCell.get(`${a}\u0000${b}`), input.ratio ?? false);
      if (typeof m === 'string') return { ok: false, reason: m, units };
      row.push(m);
    }
    moments.push(row);
  }
  // Contrast (i, j) has coefficient +1 on (i, j) and (0, 0), −1 on (0, j) and (i, 0).
  const index: [number, number][] = [];
  for (let i = 1; i < armsA.length; i++) for (let j = 1; j < armsB.length; j++) index.push([i, j]);
  const coef = (c: [number, number], a: number, b: number): number =>
    (a === c[0] || a === 0 ? (a === c[0] ? 1 : -1) : 0) * (b === c[1] || b === 0 ? (b === c[1] ? 1 : -1) : 0);
  const theta = index.map(([i, j]) => moments[i][j].mean - moments[0][j].mean - moments[i][0].mean + moments[0][0].mean);
  const sigma = index.map((p) =>
    index.map((q) => {
      let acc = 0;
      for (let a = 0; a < armsA.length; a++)
        for (let b = 0; b < armsB.length; b++) acc += coef(p, a, b) * coef(q, a, b) * moments[a][b].variance;
      return acc;
    }),
  );
  const contrasts = index.map(([i, j], k) => ({ armA: armsA[i], armB: armsB[j], estimate: theta[k], se: Math.sqrt(sigma[k][k]) }));
  if (!theta.every(Number.isFinite)) return { ok: false, reason: 'non-finite cell means', units };
  const x = choleskySolve(sigma, theta);
  if (!x || contrasts.some((c) => !(c.se > 0)))
    return { ok: false, reason: 'zero variance in the cells: the interaction is not testable', units };
  const best = contrasts.reduce((a, c) => (Math.abs(c.estimate / c.se) > Math.abs(a.estimate / a.se) ? c : a));
  if (index.length === 1) {
    const z = theta[0] / contrasts[0].se;
    return {
      ok: true,
      method: 'interaction-z',
      df: 1,
      statistic: z,
      pValue: twoSidedNormalP(z),
      estimate: theta[0],
      se: contrasts[0].se,
      contrasts,
      units,
    };
  }
  const w = theta.reduce((acc, t, k) => acc + t * x[k], 0);
  return {
    ok: true,
    method: 'interaction-wald',
    df: index.length,
    statistic: w,
    pValue: chiSquareSurvival(w, index.length),
    estimate: best.estimate,
    se: best.se,
    contrasts,
    units,
  };
}

export type InteractionCorrection = 'bh' | 'by';

/**
 * False discovery rate control over every interaction test at once. `bh`: Benjamini & Hochberg
 * (1995), FDR ≤ q·m₀/m for independent or positively dependent (PRDS) p-values; with all nulls
 * true that is P(any flag) ≤ q. `by`: Benjamini & Yekutieli (2001), the BH adjusted p-values times
 * c(m) = Σ_{i≤m} 1/i, FDR ≤ q under ARBITRARY dependence (tests that share an experiment share
 * units, so their p-values are dependent; BY is the choice that needs no assumption about it).
 */
export function interactionFdr(pValues: number[], q: number, correction: InteractionCorrection = 'bh'): CorrectionResult {
  const bh = benjaminiHochberg(pValues, q);
  if (correction === 'bh') return bh;
  let c = 0;
  for (let i = 1; i <= pValues.length; i++) c += 1 / i;
  const adjusted = bh.adjustedPValues.map((p) => Math.min(1, p * c));
  return { ...bh, adjustedPValues: adjusted, rejected: adjusted.map((p) => p <= q), ciAlpha: bh.ciAlpha / Math.max(1, c) };
}
