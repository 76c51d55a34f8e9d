import type { ExposureRecord } from '@strata/contracts';

/** Where `logExposures` sends exposures: the event collector's writer (issue #4). */
export interface ExposureSink {
  record(exposures: ExposureRecord[]): Promise<void>;
}

export const EXPOSURE_SINK = Symbol('EXPOSURE_SINK');

/**
 * PLACEHOLDER until the event collector (#4, modules/event) exposes its writer: stores
 * nothing in the database. It keeps the most recent exposures in memory (bounded) so tests
 * and operators can see what would have been written. Replace the EXPOSURE_SINK provider in
 * assignment.module.ts with the collector's writer.
 */
export class UnwiredExposureSink implements ExposureSink {
  static readonly KEEP = 10_000;
  private readonly recent: ExposureRecord[] = [];
  total = 0;

  record(exposures: ExposureRecord[]): Promise<void> {
    this.total += exposures.length;
    this.recent.push(...exposures);
    if (this.recent.length > UnwiredExposureSink.KEEP) this.recent.splice(0, this.recent.length - UnwiredExposureSink.KEEP);
    return Promise.resolve();
  }

  /** The most recent exposures, oldest first (at most KEEP). */
  list(): readonly ExposureRecord[] {
    return this.recent;
  }
}
