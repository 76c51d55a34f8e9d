import { StatsInputError } from './input-error';

/**
 * A carried-over always-valid p-value must be a p-value: −1, NaN or 1.5 means corrupt state, and
 * silently ignoring it would let a comparison un-reject. Throws StatsInputError.
 */
export function checkedPreviousPValue(p: number): number {
  if (!(Number.isFinite(p) && p >= 0 && p <= 1)) throw new StatsInputError(`previousPValue must be in [0, 1], got ${p}`);
  return p;
}
