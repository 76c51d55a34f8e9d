import fc from 'fast-check';
import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Property: whatever the interleaving of new units, late metric events (after exposure and in
 * the CUPED lookback), earlier exposures arriving late, forced units, definition changes and
 * ticks, the statistics the engine keeps by deltas equal those of a rebuild from raw events —
 * every stored row: each metric type (conversion, count, mean with winsorization, ratio, an
 * attribution window), the CUPED sums, the per-day rows of the time series and every segment
 * slice (country, platform, day_of_week, and the exposure-day cohorts of first_exposure_day, which
 * move when an earlier exposure arrives).
 */

const HOUR = 3_600_000;
let t: TestApp;
let sdkKey: string;
let engine: AnalysisEngineService;

type Op =
  | { kind: 'units'; count: number; seed: number }
  | { kind: 'late'; seed: number }
  | { kind: 'earlier'; seed: number }
  | { kind: 'forced'; seed: number }
  | { kind: 'definition'; window: number | null }
  | { kind: 'tick' }
  | { kind: 'check' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('units' as const), count: fc.integer({ min: 1, max: 6 }), seed: fc.nat() }),
  fc.record({ kind: fc.constant('late' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('earlier' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('forced' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('definition' as const), window: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }) }),
  fc.constant({ kind: 'tick' as const }),
  fc.constant({ kind: 'check' as const }),
);

interface StatRow {
  k: string;
  v: number[];
}

async function storedStats(key: string): Promise<Map<string, number[]>> {
  const rows: StatRow[] = await t.dataSource.query(
    `SELECT concat_ws('|', dim, val, metric_key, variant_key) AS k,
            ARRAY[n::float8, sum::float8, sum_sq::float8, cov_sum::float8, cov_sum_sq::float8, cross_sum::float8, sum_den::float8, sum_den_sq::float8, sum_num_den::float8] AS v
       FROM analysis_stats WHERE experiment_key = $1`,
    [key],
  );
  // A slice whose units all left (a variant, a segment value, a day) keeps a row of zeros; a rebuild has none.
  return new Map(rows.filter((r) => r.v.some((x) => x !== 0)).map((r) => [r.k, r.v]));
}

/** Incremental statistics against a rebuild from raw events, at caps recomputed on the same data. */
async function checkAgainstRebuild(key: string): Promise<void> {
  await engine.tick();
  expect((await t.admin('POST', '/v1/analysis/caps', { experiments: [key] })).status).toBe(200);
  const incremental = await storedStats(key);
  await engine.rebuild([key]);
  const report = await engine.tick();
  expect(report.rebuilt).toContain(key);
  const rebuilt = await storedStats(key);
  expect([...incremental.keys()].sort()).toEqual([...rebuilt.keys()].sort());
  for (const [k, a] of incremental) {
    const b = rebuilt.get(k) as number[];
    a.forEach((x, i) => expect(Math.abs(x - b[i]), `${k}[${i}]: ${x} vs ${b[i]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x), Math.abs(b[i]))));
  }
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  engine = t.app.get(AnalysisEngineService);
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('incremental statistics equal a rebuild from raw events', () => {
  let run = 0;
  it('after random interleavings of new units, late events, earlier exposures, forced units, definition changes and ticks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 9 }), async (ops) => {
        const r = run++;
        const key = `prop-${r}`;
        const m = (name: string) => `p${r}_${name}`;
        await createMetric(t, { key: m('conv'), type: 'conversion', eventName: 'p_buy', cupedLookbackDays: 0 });
        await createMetric(t, { key: m('count'), type: 'count', eventName: 'p_view', cupedLookbackDays: 1 });
        await createMetric(t, { key: m('rev'), type: 'mean', eventName: 'p_buy', winsorizePercentile: 0.8, cupedLookbackDays: 1 });
        await createMetric(t, { key: m('ratio'), type: 'ratio', eventName: 'p_buy', denominatorEventName: 'p_session', cupedLookbackDays: 0 });
        await createMetric(t, { key: m('win'), type: 'count', eventName: 'p_view', attributionWindowHours: 6, cupedLookbackDays: 0 });
        const forced = [`p${r}-forced-0`, `p${r}-forced-1`];
        await startExperiment(t, {
          key,
          primary: m('conv'),
          secondary: [m('count'), m('rev'), m('ratio'), m('win')],
          forced: forced.map((unitId) => ({ unitId, variant: 'treatment' })),
          segmentDimensions: ['country', 'platform', 'day_of_week', 'first_exposure_day'],
        });
        const now = Date.now();
        const units = new Map<string, { variant: string; firstAgo: number }>();
        let next = 0;
        const metricEvents = (unitId: string, firstAgo: number, rng: ReturnType<typeof createRng>): SentEvent[] => {
          const out: SentEvent[] = [];
          const k = 1 + Math.floor(rng.uniform() * 4);
          for (let i = 0; i < k; i++) {
            // After exposure, or up to 30 h before it (the 1-day CUPED lookback and beyond).
            const ago = rng.uniform() < 0.7 ? firstAgo * rng.uniform() : firstAgo + 30 * HOUR * rng.uniform();
            const u = rng.uniform();
            const name = u < 0.4 ? 'p_view' : u < 0.8 ? 'p_buy' : 'p_session';
            out.push({ type: 'metric', unitId, name, value: name === 'p_view' ? undefined : Math.round(rng.uniform() * 1000) / 10, timestamp: isoAgo(Math.max(1000, ago), now) });
          }
          return out;
        };
        const attributes = (rng: ReturnType<typeof createRng>) => ({ country: ['US', 'DE', 'FR'][Math.floor(rng.uniform() * 3)], platform: rng.uniform() < 0.5 ? 'ios' : 'web' });
        for (const op of ops) {
          switch (op.kind) {
            case 'units': {
              const rng = createRng(op.seed);
              const ids = Array.from({ length: op.count }, () => `p${r}-u${next++}`);
              const variants = await assignedVariants(t, sdkKey, key, ids);
              const events: SentEvent[] = [];
              for (const unitId of ids) {
                const firstAgo = (2 + rng.uniform() * 60) * HOUR;
                units.set(unitId, { variant: variants.get(unitId) as string, firstAgo });
                events.push({ type: 'exposure', unitId, experiment: key, variant: variants.get(unitId), timestamp: isoAgo(firstAgo, now), attributes: attributes(rng) });
                events.push(...metricEvents(unitId, firstAgo, rng));
              }
              await sendEvents(t, sdkKey, events);
              break;
            }
            case 'late': {
              const rng = createRng(op.seed);
              const events = [...units].filter(() => rng.uniform() < 0.5).flatMap(([unitId, u]) => metricEvents(unitId, u.firstAgo, rng));
              if (events.length) await sendEvents(t, sdkKey, events);
              break;
            }
            case 'earlier': {
              const rng = createRng(op.seed);
              const all = [...units];
              if (all.length === 0) break;
              const [unitId, u] = all[Math.floor(rng.uniform() * all.length)];
              // An earlier first exposure arriving late (other attributes: the segment moves too).
              u.firstAgo += (1 + rng.uniform() * 20) * HOUR;
              await sendEvents(t, sdkKey, [{ type: 'exposure', unitId, experiment: key, variant: u.variant, timestamp: isoAgo(u.firstAgo, now), attributes: attributes(rng) }]);
              break;
            }
            case 'forced': {
              const rng = createRng(op.seed);
              const events: SentEvent[] = forced.flatMap((unitId) => [
                { type: 'exposure' as const, unitId, experiment: key, variant: 'treatment', timestamp: isoAgo(5 * HOUR, now) },
                ...metricEvents(unitId, 5 * HOUR, rng),
              ]);
              await sendEvents(t, sdkKey, events);
              break;
            }
            case 'definition': {
              const res = await t.admin('PATCH', `/v1/metrics/${m('win')}`, { attributionWindowHours: op.window });
              expect(res.status, JSON.stringify(res.body)).toBe(200);
              break;
            }
            case 'tick':
              await engine.tick();
              break;
            case 'check':
              await checkAgainstRebuild(key);
              break;
          }
        }
        await checkAgainstRebuild(key);
        // The cohort slices were among the rows compared (when any unit counts).
        const dims: { dim: string }[] = await t.dataSource.query('SELECT DISTINCT dim FROM analysis_stats WHERE experiment_key = $1 AND n > 0', [key]);
        if (units.size > 0) expect(dims.map((d) => d.dim)).toContain('first_exposure_day');
        // The forced units never count.
        const results = await t.admin('GET', `/v1/experiments/${key}/results`);
        expect(results.body.totalUnits).toBe(units.size);
      }),
      {
        numRuns: 8,
        seed: 1401,
        endOnFailure: true,
        // One interleaving always runs: every kind of change landing on units a tick already counted.
        examples: [
          [
            [
              { kind: 'units', count: 6, seed: 1 }, { kind: 'tick' }, { kind: 'late', seed: 2 }, { kind: 'tick' }, { kind: 'earlier', seed: 3 },
              { kind: 'forced', seed: 4 }, { kind: 'check' }, { kind: 'late', seed: 5 }, { kind: 'units', count: 3, seed: 6 }, { kind: 'tick' },
              { kind: 'definition', window: 2 }, { kind: 'late', seed: 7 }, { kind: 'tick' }, { kind: 'earlier', seed: 8 }, { kind: 'late', seed: 9 },
            ],
          ],
        ],
      },
    );
  }, 600_000);
});
