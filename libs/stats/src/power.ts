import { csMultiplier, optimalRhoSquared } from './confidence-sequence';
import { zQuantile } from './distributions';
import { DEFAULT_ALPHA } from './estimate';

export interface SampleSizeOptions {
  /** Relative minimum detectable effect, e.g. 0.03 for a 3% lift. */
  mde: number;
  /** Conversion metric: baseline rate in (0, 1). */
  baselineRate?: number;
  /** Mean metric: baseline mean and standard deviation (treatment assumed to share the sd). */
  baselineMean?: number;
  baselineSd?: number;
  alpha?: number;
  /** Target power; default 0.8. */
  power?: number;
  /** Arms in the experiment (control + treatments) for `total`; default 2. */
  arms?: number;
}

export interface SampleSizeResult {
  method: 'fixed-horizon' | 'confidence-sequence';
  defined: boolean;
  reason?: string;
  /** Units needed in EACH arm (0 when undefined): store this as the experiment's plannedSampleSize. */
  perArm: number;
  /** Units over all `arms` arms (perArm × arms, default 2): the traffic the plan needs, not N*. */
  total: number;
  arms: number;
  params: Record<string, number | string>;
}

type Resolved = { ok: true; delta: number; varianceSum: number } | { ok: false; reason: string };

/** Absolute effect δ and σ_c² + σ_t² from the baseline description. */
function resolve(o: SampleSizeOptions): Resolved {
  if (!(Number.isFinite(o.mde) && o.mde !== 0)) return { ok: false, reason: 'mde must be a non-zero finite number' };
  if (o.baselineRate !== undefined) {
    const p = o.baselineRate;
    const q = p * (1 + o.mde);
    if (!(p > 0 && p < 1)) return { ok: false, reason: 'baselineRate must be in (0, 1)' };
    if (!(q > 0 && q < 1)) return { ok: false, reason: 'baselineRate × (1 + mde) must be in (0, 1)' };
    return { ok: true, delta: q - p, varianceSum: p * (1 - p) + q * (1 - q) };
  }
  if (o.baselineMean === undefined || o.baselineSd === undefined) {
    return { ok: false, reason: 'give baselineRate, or baselineMean and baselineSd' };
  }
  if (!Number.isFinite(o.baselineMean) || o.baselineMean === 0)
    return { ok: false, reason: 'baselineMean must be non-zero for a relative mde' };
  if (!(Number.isFinite(o.baselineSd) && o.baselineSd > 0))
    return { ok: false, reason: 'baselineSd must be positive (zero variance needs no experiment)' };
  return { ok: true, delta: o.mde * o.baselineMean, varianceSum: 2 * o.baselineSd ** 2 };
}

function size(method: SampleSizeResult['method'], o: SampleSizeOptions, criticalValue: (alpha: number) => number): SampleSizeResult {
  const alpha = o.alpha ?? DEFAULT_ALPHA;
  const power = o.power ?? 0.8;
  const params = { alpha, power, mde: o.mde };
  const arms = o.arms ?? 2;
  const fail = (reason: string): SampleSizeResult => ({ method, defined: false, reason, perArm: 0, total: 0, arms, params });
  if (!(Number.isInteger(arms) && arms >= 2)) return fail('arms must be an integer ≥ 2');
  if (!(alpha > 0 && alpha < 1)) return fail('alpha must be in (0, 1)');
  if (!(power > 0 && power < 1)) return fail('power must be in (0, 1)');
  const r = resolve(o);
  if (!r.ok) return fail(r.reason);
  const k = criticalValue(alpha) + zQuantile(power);
  const perArm = Math.ceil((k * k * r.varianceSum) / (r.delta * r.delta));
  if (!Number.isFinite(perArm)) return fail('numerical overflow');
  return {
    method,
    defined: true,
    perArm: Math.max(2, perArm),
    total: arms * Math.max(2, perArm),
    arms,
    params: { ...params, absoluteEffect: r.delta },
  };
}

/**
 * Fixed-horizon two-sided z approximation: n per arm = (z_{1−α/2} + z_{power})² (σ_c² + σ_t²) / δ²,
 * δ = mde × baseline; for rates σ² = p(1 − p) in each arm (unpooled).
 */
export function sampleSizeFixed(options: SampleSizeOptions): SampleSizeResult {
  return size('fixed-horizon', options, (alpha) => zQuantile(1 - alpha / 2));
}

/**
 * Units per arm for the asymptotic confidence sequence with N* set to the answer itself. Because ρ
 * is tuned to N*, s = N*ρ² = −2 log α + log(1 − 2 log α) at the planned end regardless of N*, so
 * the boundary there is a constant c_α = csMultiplier(s, α) (≈ 3.03 at α = 0.05 vs 1.96 fixed):
 * n per arm = (c_α + z_{power})² (σ_c² + σ_t²) / δ². This reaches the target power at the final
 * look alone; earlier crossings only add power, so it is slightly conservative.
 */
export function sampleSizeSequential(options: SampleSizeOptions): SampleSizeResult {
  return size('confidence-sequence', options, (alpha) => csMultiplier(optimalRhoSquared(alpha, 1), alpha));
}
