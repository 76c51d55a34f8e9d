/**
 * log Γ(x) for x > 0 to ~1e-15 relative (absolute near the zeros at 1 and 2): the Stirling series
 * up to x⁻⁹ for x ≥ 20 (truncation error < 691/(360360·20¹¹) ≈ 1e-17),
 * and the recurrence Γ(x) = Γ(x + k)/(x(x + 1)…(x + k − 1)) below. Differences of large log Γ values
 * (Dirichlet-multinomial e-values over 10⁸ units) need this accuracy, not a 10-digit Lanczos fit.
 */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Number.NaN;
  let shift = 0;
  let y = x;
  while (y < 20) {
    shift += Math.log(y);
    y += 1;
  }
  const inv = 1 / y;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 + inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188)))));
  return (y - 0.5) * Math.log(y) - y + 0.5 * Math.log(2 * Math.PI) + series - shift;
}
