export interface CorrectionResult {
  method: 'benjamini-hochberg' | 'bonferroni';
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
