import { randomUUID } from 'node:crypto';
import { compileSnapshot, evaluateExperiment } from '@strata/bucketing';
import type { ConfigSnapshot } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { validateEvents } from './event-validator';
import { expectedVariant, toCatalogExperiment, type CatalogExperiment, type ExperimentRow } from '../../config-state/experiment-catalog';

const row = (over: Partial<ExperimentRow> = {}): ExperimentRow => ({
  key: 'exp',
  status: 'running',
  salt: 'salty',
  variants: [
    { key: 'control', name: 'Control', weight: 0.2 },
    { key: 'a', name: 'A', weight: 0.3 },
    { key: 'b', name: 'B', weight: 0.5 },
  ],
  forced_variants: [],
  started_at: null,
  stopped_at: null,
  ...over,
});

const NOW = Date.parse('2026-11-20T12:00:00Z');
const ctx = (catalog: Record<string, CatalogExperiment>) => ({ experiment: (k: string) => catalog[k], now: NOW, apiKeyId: null });

describe('expectedVariant', () => {
  it('agrees with libs/bucketing for every unit of a running experiment at full traffic', () => {
    const snapshot: ConfigSnapshot = {
      version: '1',
      generatedAt: new Date(NOW).toISOString(),
      layers: [{ key: 'L', salt: 'layer-salt' }],
      experiments: [
        {
          key: 'exp',
          layer: 'L',
          salt: 'salty',
          status: 'running',
          variants: row().variants.map((v) => ({ key: v.key, weight: v.weight })),
          ranges: [{ start: 0, end: 10_000 }],
          targeting: null,
          forcedVariants: [],
          shippedVariant: null,
        },
      ],
    };
    const compiled = compileSnapshot(snapshot, new Date(NOW));
    const e = toCatalogExperiment(row());
    for (let i = 0; i < 20_000; i++) {
      const unit = i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? `ユーザー${i}🙂` : randomUUID();
      expect(expectedVariant(e, unit, NOW).variant).toBe(evaluateExperiment(compiled, 'exp', unit)?.variant);
    }
  });

  it('uses a forced variant until it expires, then the hash', () => {
    const e = toCatalogExperiment(row({ forced_variants: [{ unitId: 'vip', variant: 'control', expiresAt: '2026-11-21T00:00:00Z' }] }));
    expect(expectedVariant(e, 'vip', NOW)).toEqual({ variant: 'control', forced: true });
    const later = expectedVariant(e, 'vip', Date.parse('2026-11-22T00:00:00Z'));
    expect(later.forced).toBe(false);
    expect(later.variant).toBe(expectedVariant(toCatalogExperiment(row()), 'vip', NOW).variant);
  });
});

describe('validateEvents', () => {
  const exp = toCatalogExperiment(row());
  const v = (unit: string) => expectedVariant(exp, unit, NOW).variant;

  it('turns valid events into rows and bad ones into indexed rejections, never throwing', () => {
    const other = (unit: string) => ['control', 'a', 'b'].find((k) => k !== v(unit)) as string;
    const out = validateEvents(
      [
        { type: 'exposure', unitId: 'u1', experiment: 'exp', variant: v('u1') },
        { type: 'exposure', unitId: 'u1', experiment: 'exp', variant: other('u1') },
        { type: 'exposure', unitId: 'u1', experiment: 'gone', variant: 'a' },
        { type: 'metric', unitId: 'u1', name: 'buy', value: 3, extra: 'ignored' },
        42,
        { type: 'metric', unitId: 'u1', name: 'buy', timestamp: new Date(NOW - 8 * 86400_000).toISOString() },
      ],
      ctx({ exp }),
    );
    expect(out.rows.map((r) => r.type)).toEqual(['exposure', 'metric']);
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'variant_mismatch'],
      [2, 'unknown_experiment'],
      [4, 'invalid_event'],
      [5, 'timestamp_out_of_range'],
    ]);
    expect(out.rows[1]).toMatchObject({ name: 'buy', value: 3, ts: NOW, experimentKey: null });
    // received_at is the store's transaction start (event-store.ts), never the validator's clock.
    expect(out.rows[1]).not.toHaveProperty('receivedAt');
  });

  it('rejects exposures of draft experiments and of stopped ones after the stop', () => {
    const draft = toCatalogExperiment(row({ key: 'd', status: 'draft' }));
    const stopped = toCatalogExperiment(row({ key: 's', status: 'stopped', stopped_at: new Date(NOW - 3600_000) }));
    const e = (experiment: string, ts: number) => ({ type: 'exposure', unitId: 'u', experiment, variant: v('u'), timestamp: new Date(ts).toISOString() });
    const out = validateEvents([e('d', NOW), e('s', NOW - 7200_000), e('s', NOW)], ctx({ d: draft, s: stopped }));
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([
      [0, 'experiment_not_started'],
      [2, 'experiment_stopped'],
    ]);
    expect(out.rows).toHaveLength(1);
  });

  it('rejects exposures more than 5 minutes before the start, so pre-start behaviour never counts as an outcome', () => {
    const started = toCatalogExperiment(row({ key: 'r', started_at: new Date(NOW - 3600_000) }));
    const e = (ts: number) => ({ type: 'exposure', unitId: 'u', experiment: 'r', variant: v('u'), timestamp: new Date(ts).toISOString() });
    const out = validateEvents([e(NOW - 3600_000 - 300_001), e(NOW - 3600_000 - 300_000), e(NOW - 3600_000), e(NOW - 3 * 86_400_000)], ctx({ r: started }));
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([
      [0, 'before_start'],
      [3, 'before_start'],
    ]);
    expect(out.rejected[0].message).toContain('started at 2026-11-20T11:00:00.000Z');
    expect(out.rows).toHaveLength(2);
  });

  it('lower-cases client ids, gives others a v7 uuid, and keeps timestamps at ms precision', () => {
    const id = randomUUID().toUpperCase();
    const out = validateEvents(
      [
        { id, type: 'metric', unitId: 'u', name: 'x', timestamp: '2026-11-20T11:00:00.123+01:00' },
        { type: 'metric', unitId: 'u', name: 'x' },
      ],
      ctx({}),
    );
    expect(out.rows[0].id).toBe(id.toLowerCase());
    expect(out.rows[0].ts).toBe(Date.parse('2026-11-20T10:00:00.123Z'));
    expect(out.rows[1].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
  });
});
