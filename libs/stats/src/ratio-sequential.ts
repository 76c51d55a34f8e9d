import { confidenceSequenceFromMoments, type ConfidenceSequenceOptions } from './confidence-sequence';
import { msprtFromMoments, type MsprtOptions } from './msprt';
import { ratioContrastMoments } from './ratio-metric';
import type { Estimate, RatioArmStats } from './types';

/**
 * Sequential inference for ratio metrics (Σnum/Σden per arm). The delta-method ratio is a smooth
 * function of per-unit means, hence asymptotically linear in i.i.d. per-unit terms, which is what
 * the asymptotic confidence sequence needs; the mSPRT uses the same normal approximation.
 */
export function ratioConfidenceSequence(
  control: RatioArmStats,
  treatment: RatioArmStats,
  options: ConfidenceSequenceOptions = {},
): Estimate {
  return confidenceSequenceFromMoments(
    ratioContrastMoments(control, treatment, options.relative ?? false),
    control.n,
    treatment.n,
    options,
  );
}

export function ratioMsprt(control: RatioArmStats, treatment: RatioArmStats, options: MsprtOptions = {}): Estimate {
  return msprtFromMoments(ratioContrastMoments(control, treatment, options.relative ?? false), control.n, treatment.n, options);
}
