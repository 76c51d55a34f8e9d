import { mean } from './arm';
import { flooredLogRatioMoments, flooredRelativeMoments, logRatioMoments, relativeMoments, type Moments } from './comparison-moments';
import { proportionLogRatioMoments, proportionRelativeMoments } from './proportion-moments';
import type { ArmStats, Estimate } from './types';

/**
 * Relative lift on the log-ratio scale. Each method (z, confidence sequence) is run on
 * L = log(ȳ_t/ȳ_c) and its interval [a, b] mapped back, so the relative interval never goes below
 * −100% and is asymmetric as the ratio's sampling distribution is (Katz, Baptista, Azen & Pike 1978,
 * "Obtaining confidence intervals for the risk ratio in cohort studies", Biometrics 34; the
 * delta-method log transform of Deng, Knoblich & Lu 2018, §3.4). The p-value is the test of L = 0,
 * the same null as "relative lift = 0".
 *
 * With ȳ_c > 0: r = e^L − 1, interval [e^a − 1, e^b − 1]. With ȳ_c < 0 (both means negative) the lift
 * is (ȳ_t − ȳ_c)/|ȳ_c| = 1 − e^L, interval [1 − e^b, 1 − e^a]. When no log ratio exists (means of
 * opposite signs, a zero treatment mean, no conversions in treatment) the delta-method interval of
 * (ȳ_t − ȳ_c)/|ȳ_c| is used and `params.interval` says so.
 */

export type RelativeIntervalMethod = 'log-ratio' | 'delta';

/** Maps a log-scale Estimate to the relative-lift scale (see module comment). */
export function fromLogScale(e: Estimate, controlSign: 1 | -1): Estimate {
  const map = (x: number) => controlSign * Math.expm1(x);
  const out: Estimate = {
    ...e,
    params: { ...e.params, interval: 'log-ratio', logEstimate: e.estimate, controlSign, standardErrorScale: 'log' },
  };
  if (!e.defined || e.ci === null) return out;
  out.estimate = map(e.estimate);
  const lo = map(e.ci[0]);
  const hi = map(e.ci[1]);
  out.ci = controlSign === 1 ? [lo, hi] : [hi, lo];
  if (![out.estimate, ...out.ci].every(Number.isFinite)) {
    return {
      ...out,
      defined: false,
      estimate: 0,
      standardError: 0,
      ci: null,
      pValue: 1,
      significant: false,
      reason: 'numerical overflow on the log-ratio scale',
    };
  }
  return out;
}

/**
 * The relative lift of `treatment` vs `control` by `build` (a z-test or confidence sequence from
 * moments), on the log-ratio scale when `method` is 'log-ratio' and it exists, else by the delta
 * method on |ȳ_c|. `proportion` uses the floored conversion variances; `floor` the
 * max(delta, pooled) variance floor for mean metrics (see flooredAbsoluteMoments).
 */
export function relativeEstimate(
  control: ArmStats,
  treatment: ArmStats,
  kind: 'mean' | 'proportion',
  method: RelativeIntervalMethod,
  build: (m: Moments) => Estimate,
  floor = false,
): Estimate {
  let logProblem = 'delta method requested';
  if (method === 'log-ratio') {
    const log =
      kind === 'proportion'
        ? proportionLogRatioMoments(control, treatment)
        : floor
          ? flooredLogRatioMoments(control, treatment)
          : logRatioMoments(control, treatment);
    if (log.ok) return fromLogScale(build(log), mean(control) > 0 ? 1 : -1);
    logProblem = log.reason;
  }
  const delta =
    kind === 'proportion'
      ? proportionRelativeMoments(control, treatment)
      : floor
        ? flooredRelativeMoments(control, treatment)
        : relativeMoments(control, treatment);
  const e = build(delta);
  e.params.interval = 'delta';
  if (method === 'log-ratio') e.params.intervalNote = `log ratio unavailable (${logProblem})`;
  return e;
}
