import { hashUnit } from '@strata/bucketing';
import type { FixtureExperiment } from '@strata/test-support/api';
import type { TestApp } from './test-app';

/** Shared with the browser suites (libs/test-support). */
export { runningExperiment, type FixtureExperiment } from '@strata/test-support/api';

/** The hash-based variant, computed independently of the server (spec: u = murmur3(salt:unit)/2^32 onto cumulative weights). */
export function hashedVariant(e: FixtureExperiment, unitId: string): string {
  const u = hashUnit(e.salt, unitId) / 4294967296;
  let sum = 0;
  for (const v of e.variants) {
    sum += v.weight;
    if (u < sum) return v.key;
  }
  return e.variants[e.variants.length - 1].key;
}

/** Waits until the collector's in-memory catalog shows `key` in `status` (it follows ConfigChangeFeed: LISTEN + 1 s poll). */
export function catalogSees(t: TestApp, key: string, status: string, timeoutMs = 5000): Promise<void> {
  return t.catalogSees(key, status, timeoutMs);
}
