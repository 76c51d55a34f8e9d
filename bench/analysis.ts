// Analysis: results latency over 1M and 10M metric events (100k and 1M units), first request
// (builds the per-unit rollup from raw events) and repeated requests (rollup current), an
// incremental request after 10,000 new events, the time series, and the unit export's peak RSS.
// Run: npm run bench -- analysis     (BENCH_SCALES=1000000 to run one scale only)
//
// Data are loaded with INSERT … SELECT generate_series straight into events and first_exposures
// (the collector's bench covers ingestion). Target on the 2-core reference machine: ≤ 2 s for a
// results request over 10M events once rollups are current.
import 'reflect-metadata';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../apps/api/src/app.factory';
import { loadConfig } from '../apps/api/src/config/app-config';
import { createDataSource, runMigrations } from '../apps/api/src/database/data-source';
import { startEmbeddedPostgres } from '../apps/api/src/database/embedded-postgres';
import { ApiKeyService } from '../apps/api/src/modules/api-key/api-key.service';

const ADMIN_KEY = 'sk_admin_bench-analysis-0123456789abcdef';
const SCALES = (process.env.BENCH_SCALES ?? '1000000,10000000').split(',').map(Number);
const EVENTS_PER_UNIT = 10;

function ms(start: number): number {
  return Math.round(performance.now() - start);
}

async function main(): Promise<void> {
  const external = process.env.DATABASE_URL;
  let stopPg: (() => Promise<void>) | null = null;
  let url = external;
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-bench-analysis-'));
  if (!url) {
    chmodSync(dataDir, 0o755);
    const pg = await startEmbeddedPostgres({ dataDir, persistent: false, database: 'strata_bench' });
    url = pg.url;
    stopPg = () => pg.stop();
  }
  const config = loadConfig({ LOG_LEVEL: 'silent', STRATA_DISABLE_JOBS: 'true', STRATA_ROLLUP_LAG_MS: '0', STRATA_DASHBOARD_DIR: '/nonexistent', STRATA_ADMIN_KEY: ADMIN_KEY });
  const ds = createDataSource({ url, poolSize: 8 });
  await ds.initialize();
  await runMigrations(ds);
  const app = await createApp(config, ds, url);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await app.get(ApiKeyService).ensureBootstrapKey(ADMIN_KEY);
  const fastify = app.getHttpAdapter().getInstance();
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fastify.inject({ method, url: path, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${res.body}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  };

  await call('POST', '/v1/metrics', { key: 'purchased', name: 'Purchased', type: 'conversion', eventName: 'purchase' });
  await call('POST', '/v1/metrics', { key: 'revenue', name: 'Revenue', type: 'mean', eventName: 'purchase', winsorizePercentile: 0.99 });
  await call('POST', '/v1/metrics', { key: 'pageviews', name: 'Pageviews', type: 'count', eventName: 'pageview' });
  console.log(`scale            load     first (build)  repeated (p50 of 5)  +10k events  timeseries  export units (peak RSS growth)`);
  for (const events of SCALES) {
    const units = Math.round(events / EVENTS_PER_UNIT);
    const key = `bench-${events}`;
    await call('POST', '/v1/layers', { key: `${key}-layer`, name: key });
    await call('POST', '/v1/experiments', {
      key, name: key, layer: `${key}-layer`, traffic: 100,
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
      primaryMetric: 'purchased', secondaryMetrics: ['revenue', 'pageviews'],
    });
    await call('POST', `/v1/experiments/${key}/start`);
    let t0 = performance.now();
    await ds.query(
      `INSERT INTO first_exposures (experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at)
       SELECT $1, $1 || '-' || g, CASE WHEN g % 2 = 0 THEN 'control' ELSE 'treatment' END,
              now() - interval '3 days' + (g % 86400) * interval '1 second',
              jsonb_build_object('country', (ARRAY['US','DE','FR','GB','JP'])[1 + g % 5]), false, now() - interval '1 minute'
         FROM generate_series(1, $2::int) g`,
      [key, units],
    );
    // Metric events spread over the 3 days after exposure: 80% pageviews, 20% purchases with a value.
    await ds.query(
      `INSERT INTO events (id, type, unit_id, name, value, ts, received_at)
       SELECT gen_random_uuid(), 'metric', $1 || '-' || (1 + (g::bigint * 7919) % $2::int),
              CASE WHEN g % 5 = 0 THEN 'purchase' ELSE 'pageview' END,
              CASE WHEN g % 5 = 0 THEN 5 + (g % 97) ELSE NULL END,
              now() - interval '2 days' + (g % 150000) * interval '1 second', now() - interval '1 minute'
         FROM generate_series(1, $3::int) g`,
      [key, units, events],
    );
    await ds.query('ANALYZE events; ANALYZE first_exposures');
    const load = ms(t0);

    t0 = performance.now();
    const first = await call('GET', `/v1/experiments/${key}/results`);
    const firstMs = ms(t0);
    if (first.totalUnits !== units) throw new Error(`expected ${units} units, got ${String(first.totalUnits)}`);
    const repeated: number[] = [];
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      await call('GET', `/v1/experiments/${key}/results`);
      repeated.push(ms(t0));
    }
    repeated.sort((a, b) => a - b);

    await ds.query(
      `INSERT INTO events (id, type, unit_id, name, value, ts, received_at)
       SELECT gen_random_uuid(), 'metric', $1 || '-' || (1 + (g * 104729) % $2::int), 'purchase', 10, now() - interval '1 hour', now()
         FROM generate_series(1, 10000) g`,
      [key, units],
    );
    t0 = performance.now();
    await call('GET', `/v1/experiments/${key}/results`);
    const incremental = ms(t0);

    t0 = performance.now();
    await call('GET', `/v1/experiments/${key}/results/timeseries`);
    const timeseries = ms(t0);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    t0 = performance.now();
    const res = await fastify.inject({ method: 'GET', url: `/v1/experiments/${key}/export/units?format=csv`, headers: { authorization: `Bearer ${ADMIN_KEY}` }, payloadAsStream: true });
    let bytes = 0;
    for await (const chunk of res.stream()) bytes += (chunk as Buffer).length;
    clearInterval(sampler);
    const exportMs = ms(t0);

    console.log(
      `${String(events / 1e6).padStart(4)}M events ${String(units).padStart(8)} units  ${String(load).padStart(6)} ms  ${String(firstMs).padStart(8)} ms  ${String(repeated[2]).padStart(12)} ms (min ${repeated[0]})  ${String(incremental).padStart(8)} ms  ${String(timeseries).padStart(7)} ms  ${exportMs} ms, ${(bytes / 1e6).toFixed(0)} MB (+${((peak - baseline) / 1048576).toFixed(0)} MB)`,
    );
  }
  await app.close();
  await ds.destroy();
  if (stopPg) await stopPg();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
