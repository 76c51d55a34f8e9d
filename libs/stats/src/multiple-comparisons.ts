export interface CorrectionResult {
  method: 'benjamini-hochberg' | 'bonferroni' | 'e-bh';
  alpha: number;
  /** Adjusted p-values in input order. */
  adjustedPValues: number[];
  /** adjusted p ≤ alpha. */
  rejected: boolean[];
  /**
   * Alpha at which to build every comparison's confidence interval so that an interval excludes
   * the null exactly when the hypothesis is rejected. BH: R·alpha/m with R = rejections (at least
   * 1), the Benjamini–Yekutieli (2005) FCR-adjusted level. Bonferroni: alpha/m.
   */
  ciAlpha: number;
}

/** Non-finite or out-of-range p-values are treated as 1 (nothing learned), never propagated. */
function clean(p: number): number {
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 1;
}

/**
 * Benjamini–Hochberg (1995) step-up: adjusted p_(i) = min_{j ≥ i} min(1, p_(j)·m/j); reject when
 * adjusted p ≤ alpha. Matches scipy.stats.false_discovery_control(method='bh').
 */
export function benjaminiHochberg(pValues: number[], alpha = 0.05): CorrectionResult {
  const m = pValues.length;
  const ps = pValues.map(clean);
  const order = ps.map((_, i) => i).sort((a, b) => ps[a] - ps[b]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const i = order[rank - 1];
    running = Math.min(running, (ps[i] * m) / rank);
    adjusted[i] = running;
  }
  const rejected = adjusted.map((p) => p <= alpha);
  const r = rejected.filter(Boolean).length;
  return {
    method: 'benjamini-hochberg',
    alpha,
    adjustedPValues: adjusted,
    rejected,
    ciAlpha: m === 0 ? alpha : (Math.max(r, 1) * alpha) / m,
  };
}

/** Bonferroni: adjusted p = min(1, m·p); intervals at alpha/m. */
export function bonferroni(pValues: number[], alpha = 0.05): CorrectionResult {
  const m = pValues.length;
  const adjusted = pValues.map((p) => Math.min(1, clean(p) * m));
  return {
    method: 'bonferroni',
    alpha,
    adjustedPValues: adjusted,
    rejected: adjusted.map((p) => p <= alpha),
    ciAlpha: m === 0 ? alpha : alpha / m,
  };
}

/**
 * e-BH (Wang & Ramdas 2022, "False discovery rate control with e-values", JRSS B 84(3)): with
 * e-values e_1…e_m, reject the k* largest where k* = max{k : e_(k) ≥ m/(α k)}. Equivalent to BH on
 * p_i = min(1, 1/e_i), so the adjusted value reported is BH's adjusted p of those; the guarantee is
 * what differs: FDR ≤ α·m₀/m under ARBITRARY dependence between the e-values (BH needs PRDS).
 * Applied to the current values of e-processes (each comparison's mixture likelihood ratio at this
 * read) it holds at any stopping time, i.e. whenever you decide to read and act (Wang & Ramdas
 * 2022, §5). Capping e below at 1/… is harmless: a rejection needs e ≥ m/(αk) ≥ 1/α > 1.
 * Intervals at ciAlpha = R·α/m (R rejections, at least 1) are e-confidence intervals with FCR ≤ α
 * under arbitrary dependence (Xu, Wang & Ramdas 2022, "Post-selection inference for e-value based
 * confidence intervals", arXiv:2203.12572).
 */
export function eBenjaminiHochberg(eValues: number[], alpha = 0.05): CorrectionResult {
  const ps = eValues.map((e) => (Number.isFinite(e) && e > 0 ? Math.min(1, 1 / e) : e === Number.POSITIVE_INFINITY ? 0 : 1));
  return { ...benjaminiHochberg(ps, alpha), method: 'e-bh' };
}
