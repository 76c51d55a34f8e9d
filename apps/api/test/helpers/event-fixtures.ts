import { hashUnit } from '@strata/bucketing';
import { ExperimentCatalog } from '../../src/modules/config-state/experiment-catalog';
import type { TestApp } from './test-app';

export interface FixtureExperiment {
  key: string;
  salt: string;
  variants: { key: string; weight: number }[];
}

/** A layer plus a running two-variant experiment; returns what a client needs to send valid exposures. */
export async function runningExperiment(t: TestApp, key: string, extra: Record<string, unknown> = {}, start = true): Promise<FixtureExperiment> {
  const layer = `${key}-layer`;
  const l = await t.admin('POST', '/v1/layers', { key: layer, name: layer });
  if (l.status !== 201 && l.status !== 200) throw new Error(`layer: ${l.status} ${l.text}`);
  const variants = [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ];
  const created = await t.admin('POST', '/v1/experiments', { key, name: key, layer, variants, traffic: 100, ...extra });
  if (created.status !== 201 && created.status !== 200) throw new Error(`experiment: ${created.status} ${created.text}`);
  if (start) {
    // Backdated, so exposures timed anywhere in the collector's 7-day window are admitted.
    const started = await t.admin('POST', `/v1/experiments/${key}/start`, { startedAt: new Date(Date.now() - 7 * 86_400_000 + 60_000).toISOString() });
    if (started.status !== 200) throw new Error(`start: ${started.status} ${started.text}`);
    // Past the 7-day minimum duration (see analysis-fixtures' coverWeeklyCycle).
    await t.dataSource.query("UPDATE experiments SET started_at = started_at - interval '1 day' WHERE key = $1", [key]);
  }
  await catalogSees(t, key, start ? 'running' : 'draft');
  return { key, salt: created.body.salt as string, variants };
}

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
export async function catalogSees(t: TestApp, key: string, status: string, timeoutMs = 5000): Promise<void> {
  const catalog = t.app.get(ExperimentCatalog);
  const deadline = Date.now() + timeoutMs;
  while (catalog.get(key)?.status !== status) {
    if (Date.now() > deadline) throw new Error(`catalog never saw ${key} ${status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
