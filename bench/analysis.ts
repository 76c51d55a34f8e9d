// Analysis: results latency over 1M and 10M metric events (100k and 1M units), first request
// (the engine's first build from raw events), repeated requests (idle catch-up + keyed read),
// the engine's tick over 10,000 and 100,000 new events and the first read after it, the time
// series, and (1M only) the unit export.
//
// Run: npm run bench -- analysis              both scales (< 15 min on the 2-core machine)
//      BENCH_ONLY=1m npm run bench -- analysis  one scale (or: node scripts/run-ts.js bench/analysis.ts --only=10m)
//      DATABASE_URL=… BENCH_LOAD_ONLY=1 …       load into an existing database and exit (for EXPLAIN sessions)
//      BENCH_EXPLAIN=1 …                        print EXPLAIN (ANALYZE, BUFFERS) of the 10k tick's statements over 50 ms
//      BENCH_QUICK=1 …                          only the first build, the 10k tick and the read after it (profiling)
//
// Events and first exposures are loaded with COPY FROM STDIN from a generated stream, in
// transactions of 1M rows, then ANALYZEd (as autovacuum would soon do after a bulk load).
// Targets on the 2-core reference machine (issue #14): repeated reads p99 ≤ 50 ms; at 10M events /
// 1M units the first read after 10,000 new events ≤ 200 ms; tick cost proportional to new events.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createApp } from '../apps/api/src/app.factory';
import { loadConfig } from '../apps/api/src/config/app-config';
import { createDataSource, runMigrations } from '../apps/api/src/database/data-source';
import { startEmbeddedPostgres } from '../apps/api/src/database/embedded-postgres';
import { AnalysisEngineService } from '../apps/api/src/modules/analysis/analysis-engine.service';
import { ApiKeyService } from '../apps/api/src/modules/api-key/api-key.service';

const ADMIN_KEY = 'sk_admin_bench-analysis-0123456789abcdef';
const EVENTS_PER_UNIT = 10;
const COPY_BATCH = 1_000_000;

function selectedScales(): number[] {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? process.env.BENCH_ONLY;
  if (only === '1m') return [1_000_000];
  if (only === '10m') return [10_000_000];
  return (process.env.BENCH_SCALES ?? '1000000,10000000').split(',').map(Number);
}

/** Zero-padded so that text order is numeric order. */
function unitId(key: string, n: number): string {
  return `${key}-${String(n).padStart(8, '0')}`;
}

function ms(start: number): number {
  return Math.round(performance.now() - start);
}

/** COPY `count` generated lines into `table`, in chunks of ~1 MB written with backpressure. */
async function copyRows(client: Client, sql: string, count: number, line: (i: number) => string): Promise<void> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let buf = '';
  for (let i = 0; i < count; i++) {
    buf += line(i);
    if (buf.length > 1 << 20) {
      if (!stream.write(buf)) await new Promise((r) => stream.once('drain', r));
      buf = '';
    }
  }
  stream.end(buf);
  await done;
}

/**
 * Units `<key>-1..units` exposed over one day starting 3 days ago (half control, half treatment),
 * and `events` metric events (10 per unit) over the next ~42 hours: 80% pageviews, 20% purchases with a value.
 */
async function load(url: string, key: string, units: number, events: number): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    const received = new Date(now - 60_000).toISOString();
    const exposedFrom = now - 3 * 86_400_000;
    const countries = ['US', 'DE', 'FR', 'GB', 'JP'];
    await client.query('BEGIN');
    await copyRows(client, 'COPY first_exposures (experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at) FROM STDIN', units, (i) => {
      const g = i + 1;
      const ts = new Date(exposedFrom + (g % 86_400) * 1000).toISOString();
      return `${key}\t${unitId(key, g)}\t${g % 2 === 0 ? 'control' : 'treatment'}\t${ts}\t{"country": "${countries[g % 5]}"}\tf\t${received}\n`;
    });
    await client.query('COMMIT');
    const eventsFrom = now - 2 * 86_400_000;
    for (let start = 0; start < events; start += COPY_BATCH) {
      const n = Math.min(COPY_BATCH, events - start);
      await client.query('BEGIN');
      await copyRows(client, 'COPY events (id, type, unit_id, name, value, ts, received_at) FROM STDIN', n, (i) => {
        // Unit-major order with zero-padded ids: index inserts land near the right edge of each
        // btree (a bulk load, like a day's events arriving per unit), instead of at random pages.
        const g = start + i;
        const unit = 1 + Math.floor(g / EVENTS_PER_UNIT);
        const purchase = g % 5 === 0;
        const ts = new Date(eventsFrom + ((g * 7919) % 150_000) * 1000).toISOString();
        return `${randomUUID()}\tmetric\t${unitId(key, unit)}\t${purchase ? 'purchase' : 'pageview'}\t${purchase ? 5 + (g % 97) : '\\N'}\t${ts}\t${received}\n`;
      });
      await client.query('COMMIT');
    }
    await client.query('ANALYZE events');
    await client.query('ANALYZE first_exposures');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const scales = selectedScales();
  const loadOnly = process.env.BENCH_LOAD_ONLY === '1';
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
  const exists = async (path: string) => (await fastify.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${ADMIN_KEY}` } })).statusCode === 200;

  if (!(await exists('/v1/metrics/purchased'))) {
    await call('POST', '/v1/metrics', { key: 'purchased', name: 'Purchased', type: 'conversion', eventName: 'purchase' });
    await call('POST', '/v1/metrics', { key: 'revenue', name: 'Revenue', type: 'mean', eventName: 'purchase', winsorizePercentile: 0.99 });
    await call('POST', '/v1/metrics', { key: 'pageviews', name: 'Pageviews', type: 'count', eventName: 'pageview' });
  }
  const tickLines: string[] = [];
  const suffix = external ? `-${Date.now().toString(36)}` : '';
  console.log(`scale                      load (COPY)  first (build)  repeated p50 (min)  read after 10k-event tick  repeated after  timeseries (repeated)  export units`);
  for (const events of scales) {
    const units = Math.round(events / EVENTS_PER_UNIT);
    const key = `bench-${events}${suffix}`;
    await call('POST', '/v1/layers', { key: `${key}-layer`, name: key });
    await call('POST', '/v1/experiments', {
      key, name: key, layer: `${key}-layer`, traffic: 100,
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
      primaryMetric: 'purchased', secondaryMetrics: ['revenue', 'pageviews'],
    });
    await call('POST', `/v1/experiments/${key}/start`);
    let t0 = performance.now();
    await load(url, key, units, events);
    const loadMs = ms(t0);
    if (loadOnly) {
      console.log(`loaded ${key}: ${units} units, ${events} events in ${loadMs} ms`);
      continue;
    }

    t0 = performance.now();
    const first = await call('GET', `/v1/experiments/${key}/results`);
    const firstMs = ms(t0);
    if (first.totalUnits !== units) throw new Error(`expected ${units} units, got ${String(first.totalUnits)}`);
    const repeat = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await call('GET', `/v1/experiments/${key}/results`);
        out.push(ms(t));
      }
      return out.sort((a, b) => a - b);
    };
    const settle = await app.get(AnalysisEngineService).tick();
    tickLines.push(`  tick after the first read: worked ${String(settle.worked)}, ${settle.ms} ms, ${settle.touchedUnits} units ${JSON.stringify(settle.steps)}`);
    const repeated = await repeat();

    // New metric events for counted units, stamped now (received_at): what the engine's next tick picks up.
    const addEvents = (n: number) =>
      ds.query(
        `INSERT INTO events (id, type, unit_id, name, value, ts, received_at)
         SELECT gen_random_uuid(), 'metric', $1 || '-' || lpad((1 + (g::bigint * 104729) % $2::int)::text, 8, '0'), 'purchase', 10, now() - interval '1 hour', clock_timestamp()
           FROM generate_series(1, $3::int) g`,
        [key, units, n],
      );
    const engine = app.get(AnalysisEngineService);
    const explain = process.env.BENCH_EXPLAIN === '1';
    if (explain) explainTicks(ds);
    // The job's tick (10,000 new events), then the first read after it: a keyed read.
    await addEvents(10_000);
    t0 = performance.now();
    const tick10k = await engine.tick();
    const tick10kMs = ms(t0);
    if (!tick10k.changed.includes(key)) throw new Error('the tick did not change the experiment');
    t0 = performance.now();
    const after = await call('GET', `/v1/experiments/${key}/results`);
    const incremental = ms(t0);
    if (!after.dataThrough || Date.parse(String(after.dataThrough)) < Date.parse(String(first.dataThrough))) throw new Error('dataThrough did not advance');
    if (process.env.BENCH_QUICK === '1') {
      console.log(`${String(events / 1e6)}M events ${units} units: first build ${firstMs} ms, tick of 10k new events ${tick10kMs} ms ${JSON.stringify(tick10k.steps)}, first read after it ${incremental} ms`);
      continue;
    }
    // Tick cost follows the new events: 100,000 of them, and a read that pays a 10,000-event catch-up itself.
    await addEvents(100_000);
    t0 = performance.now();
    await engine.tick();
    const tick100kMs = ms(t0);
    tickLines.push(`  steps of the 10k tick (ms): ${JSON.stringify(tick10k.steps)}`);
    await addEvents(10_000);
    t0 = performance.now();
    await call('GET', `/v1/experiments/${key}/results`);
    const readWithCatchUp = ms(t0);
    t0 = performance.now();
    const idle = await engine.tick();
    const idleMs = ms(t0);
    if (idle.worked) throw new Error('an idle tick wrote something');
    tickLines.push(
      `${String(events / 1e6).padStart(3)}M events: tick of 10k new events ${tick10kMs} ms, of 100k ${tick100kMs} ms (ratio ${(tick100kMs / tick10kMs).toFixed(1)}), idle tick ${idleMs} ms; ` +
        `first read after the 10k tick ${incremental} ms; a read that runs the 10k catch-up itself ${readWithCatchUp} ms`,
    );
    const repeatedAfter = await repeat();

    t0 = performance.now();
    await call('GET', `/v1/experiments/${key}/results/timeseries`);
    const timeseries = ms(t0);
    t0 = performance.now();
    await call('GET', `/v1/experiments/${key}/results/timeseries`);
    const timeseriesRepeated = ms(t0);

    let exportCell = 'skipped (1M units: see analysis-export test)';
    if (units <= 100_000) {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      t0 = performance.now();
      const res = await fastify.inject({ method: 'GET', url: `/v1/experiments/${key}/export/units?format=csv`, headers: { authorization: `Bearer ${ADMIN_KEY}` }, payloadAsStream: true });
      let bytes = 0;
      for await (const chunk of res.stream()) bytes += (chunk as Buffer).length;
      clearInterval(sampler);
      exportCell = `${ms(t0)} ms, ${(bytes / 1e6).toFixed(0)} MB (+${((peak - baseline) / 1048576).toFixed(0)} MB RSS)`;
    }

    console.log(
      `${String(events / 1e6).padStart(3)}M events ${String(units).padStart(8)} units  ${String(loadMs).padStart(8)} ms  ${String(firstMs).padStart(10)} ms  ${String(repeated[2]).padStart(8)} ms (${repeated[0]})  ${String(incremental).padStart(8)} ms  ${String(repeatedAfter[2]).padStart(11)} ms  ${String(timeseries).padStart(7)} ms (again ${timeseriesRepeated} ms)  ${exportCell}`,
    );
  }
  console.log('');
  for (const line of tickLines) console.log(line);
  await app.close();
  if (ds.isInitialized) await ds.destroy();
  if (stopPg) await stopPg();
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Every query runner the engine opens from now on loads auto_explain and sends the plans of its
 * statements over 50 ms (nested ones included) to the client as notices, printed here.
 */
function explainTicks(ds: ReturnType<typeof createDataSource>): void {
  const create = ds.createQueryRunner.bind(ds);
  const prepared = new WeakSet<Client>();
  ds.createQueryRunner = (...args: Parameters<typeof create>) => {
    const qr = create(...args);
    const connect = qr.connect.bind(qr);
    qr.connect = async () => {
      const conn = (await connect()) as Client;
      if (prepared.has(conn)) return conn;
      prepared.add(conn);
      conn.on('notice', (n) => console.log(n.message));
      await conn.query(
        "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 50; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; " +
          "SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET client_min_messages = notice",
      );
      return conn;
    };
    return qr;
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
