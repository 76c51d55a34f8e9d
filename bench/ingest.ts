// Event ingestion: POST /v1/events over HTTP on 127.0.0.1 (real API, embedded PostgreSQL, fsync on),
// with 100- and 1,000-event batches, then the group-commit writer alone (rows/s, no HTTP).
// Run: npm run bench -- ingest          (BENCH_SECONDS=20 to change the HTTP phases' length;
//      BENCH_ONLY=http|writer for one part; BENCH_FLOOR=0 skips the "where the time goes" runs;
//      BENCH_ONLY=log: the HTTP phases directly, then through the event log, see _ingest-log.ts)
//
// Every event carries a fresh id (so each is a real insert, not a duplicate); 30 % are exposures
// with the unit's correct variant, 70 % metric events with a value and two attributes. autocannon
// runs in a child process (own event loop) with a bounded number of connections. Targets on the
// reference 2-core machine: ≥ 50,000 events/s over HTTP and ≥ 200,000 rows/s for the writer alone.
// A 2xx here means the events were committed: the figures include durability.
// The writer line also prints the bench process's own CPU per row (encoding + bookkeeping), which
// competes with PostgreSQL for the same two cores.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { hashUnit } from '@strata/bucketing';
import { Client } from 'pg';
import { EVENT_COLUMNS, writeEventRow, writeLedgerRow, type EventRow } from '../apps/api/src/modules/event/store/event-row';
import { copyBinary } from '../apps/api/src/modules/event/store/copy-binary';
import { EventWriter } from '../apps/api/src/modules/event/store/event-writer';
import { startBenchApi } from './_api';
import { logMode } from './_ingest-log';
import { adminCall, runChildBench } from './_child';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ADMIN_KEY = 'sk_admin_bench-ingest-0123456789abcdef';
const UNITS = 100_000;

interface LoadResult {
  requestsPerSecond: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
}

/** Child process: autocannon posting `batch`-event bodies, each with fresh ids. */
async function load(url: string, key: string, salt: string, batch: number, connections: number, seconds: number): Promise<void> {
  const variants = new Array<string>(UNITS);
  for (let u = 0; u < UNITS; u++) variants[u] = hashUnit(salt, `u${u}`) / 4294967296 < 0.5 ? 'control' : 'treatment';
  const idPrefix = randomUUID().slice(0, 24); // 8-4-4-4- ; the last 12 hex digits count up
  let n = 0;
  const body = (): string => {
    const parts: string[] = [];
    for (let i = 0; i < batch; i++) {
      n++;
      const id = `${idPrefix}${n.toString(16).padStart(12, '0')}`;
      const u = (n * 2654435761) % UNITS;
      parts.push(
        n % 10 < 3
          ? `{"id":"${id}","type":"exposure","unitId":"u${u}","experiment":"bench-exp","variant":"${variants[u]}"}`
          : `{"id":"${id}","type":"metric","unitId":"u${u}","name":"${n & 1 ? 'purchase' : 'page_view'}","value":${n % 997},"attributes":{"country":"DE","plan":"pro"}}`,
      );
    }
    return `{"events":[${parts.join(',')}]}`;
  };
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: body() }),
      },
    ],
  });
  const out: LoadResult = {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runLoad(url: string, key: string, salt: string, batch: number, connections: number, seconds: number): Promise<LoadResult> {
  return runChildBench<LoadResult>(__filename, ['--load', url, key, salt, String(batch), String(connections), String(seconds)]);
}

function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  return adminCall<T>(ADMIN_KEY, base, method, path, body);
}

/**
 * The writer alone: pre-built rows, `producers` concurrent writers of `batch` rows, `total` rows.
 * `forward`: event times grow with arrival, as from live SDKs (a unit's later exposures are
 * repeats). `reverse`: every exposure is earlier than the one stored for its unit (a backfill
 * in reverse time order), so each one rewrites its unit's first exposure — the worst case.
 */
async function writerAlone(
  writer: EventWriter,
  total: number,
  batch: number,
  producers: number,
  order: 'forward' | 'reverse' = 'forward',
): Promise<{ rowsPerSecond: number; stored: number; cpuPerRow: number }> {
  const now = Date.now();
  const prefix = randomBytes(4).toString('hex');
  const rows: EventRow[] = Array.from({ length: total }, (_, i) => ({
    id: `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    type: i % 10 < 3 ? 'exposure' : 'metric',
    unitId: `w${i % UNITS}`,
    experimentKey: i % 10 < 3 ? 'bench-exp' : null,
    variantKey: i % 10 < 3 ? 'control' : null,
    name: i % 10 < 3 ? null : 'purchase',
    value: i % 10 < 3 ? null : i % 997,
    ts: order === 'forward' ? now - 3_600_000 + Math.floor((i / total) * 3_600_000) : now - 7_200_000 - i,
    attributes: '{"country":"DE","plan":"pro"}',
    apiKeyId: null,
    forced: false,
  }));
  let next = 0;
  let stored = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < total) {
        const slice = rows.slice(next, (next += batch));
        const r = await writer.write(slice, true);
        stored += r.accepted;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { rowsPerSecond: total / seconds, stored, cpuPerRow: (used.user + used.system) / total };
}

/**
 * Where the writer's time goes: the same rows, binary COPY on 2 connections in 20,000-row
 * transactions (fsync on), into stand-alone tables that add one cost at a time — no index at
 * all, the metric-event `(unit_id)` index, the id ledger. Each table is filled with 500,000 rows
 * first, then 500,000 more are timed. The writer does all of it plus its own bookkeeping.
 */
async function copyFloor(databaseUrl: string): Promise<void> {
  const now = Date.now();
  const clients = [new Client(databaseUrl), new Client(databaseUrl)];
  await Promise.all(clients.map((c) => c.connect()));
  const group = (g: number): EventRow[] =>
    Array.from({ length: 20_000 }, (_, j) => {
      const i = g * 20_000 + j;
      return {
        id: `${(0x10000000 + g).toString(16)}-0000-7000-8000-${j.toString(16).padStart(12, '0')}`,
        type: i % 10 < 3 ? 'exposure' : 'metric',
        unitId: `f${(i * 7919) % UNITS}`,
        experimentKey: i % 10 < 3 ? 'bench-exp' : null,
        variantKey: i % 10 < 3 ? 'control' : null,
        name: i % 10 < 3 ? null : 'purchase',
        value: i % 10 < 3 ? null : i % 997,
        ts: now - 3_600_000 + Math.floor(i / 500),
        attributes: '{"country":"DE","plan":"pro"}',
        apiKeyId: null,
        forced: false,
      };
    });
  const run = async (setup: string[], copies: (c: Client, rows: EventRow[]) => Promise<void>): Promise<number> => {
    for (const sql of ['DROP TABLE IF EXISTS bench_floor_events, bench_floor_ids', ...setup]) await clients[0].query(sql);
    let rate = 0;
    for (const timed of [false, true]) {
      let next = 0;
      const started = process.hrtime.bigint();
      await Promise.all(
        clients.map(async (c) => {
          for (let g = next++; g < 25; g = next++) {
            const rows = group(g + (timed ? 25 : 0));
            await c.query('BEGIN');
            await copies(c, rows);
            await c.query('COMMIT');
          }
        }),
      );
      rate = 500_000 / (Number(process.hrtime.bigint() - started) / 1e9);
    }
    return rate;
  };
  const events = (c: Client, rows: EventRow[]) =>
    copyBinary(c, `COPY bench_floor_events (${EVENT_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`, rows, (w, r) =>
      writeEventRow(w, r, now),
    );
  const ids = (c: Client, rows: EventRow[]) =>
    copyBinary(c, 'COPY bench_floor_ids (id, received_at) FROM STDIN (FORMAT binary)', rows, (w, r) => writeLedgerRow(w, r, now));
  const table = 'CREATE TABLE bench_floor_events (LIKE events INCLUDING DEFAULTS)';
  const ledger = 'CREATE TABLE bench_floor_ids (id uuid PRIMARY KEY, received_at timestamptz NOT NULL)';
  const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} rows/s`;
  try {
    const plain = await run([table], events);
    const indexed = await run([table, `CREATE INDEX ON bench_floor_events (unit_id) WHERE type = 'metric'`], events);
    const both = await run([table, `CREATE INDEX ON bench_floor_events (unit_id) WHERE type = 'metric'`, ledger], async (c, rows) => {
      await ids(c, rows);
      await events(c, rows);
    });
    console.log('where the time goes (same rows, binary COPY, 2 connections, 20,000-row transactions, no writer):');
    console.log(`  events heap only, no index:              ${fmt(plain)}`);
    console.log(`  + (unit_id) index on metric events:      ${fmt(indexed)}`);
    console.log(`  + id ledger (uuid primary key):          ${fmt(both)}`);
  } finally {
    await clients[0].query('DROP TABLE IF EXISTS bench_floor_events, bench_floor_ids').catch(() => undefined);
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** The bench experiment and an SDK key on a fresh API; waits until its collector's catalog knows the experiment. */
async function prepare(base: string): Promise<{ sdkKey: string; salt: string }> {
  await api(base, 'POST', '/v1/layers', { key: 'bench-layer', name: 'Bench' });
  const exp = await api<{ salt: string }>(base, 'POST', '/v1/experiments', {
    key: 'bench-exp',
    name: 'Bench',
    layer: 'bench-layer',
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
    traffic: 100,
  });
  await api(base, 'POST', '/v1/experiments/bench-exp/start');
  const sdkKey = (await api<{ secret: string }>(base, 'POST', '/v1/api-keys', { name: 'bench', type: 'sdk-server' })).secret;
  // Wait until the collector's catalog knows the experiment (it follows the change feed).
  for (let i = 0; ; i++) {
    const r = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          {
            type: 'exposure',
            unitId: 'u0',
            experiment: 'bench-exp',
            variant: hashUnit(exp.salt, 'u0') / 4294967296 < 0.5 ? 'control' : 'treatment',
          },
        ],
      }),
    });
    const b = (await r.json()) as { accepted: number };
    if (b.accepted === 1) break;
    if (i > 100) throw new Error('the collector never saw the experiment');
    await new Promise((res) => setTimeout(res, 50));
  }
  return { sdkKey, salt: exp.salt };
}

async function main(): Promise<void> {
  const bench = await startBenchApi(ADMIN_KEY, process.env);
  const { base } = bench;
  try {
    const { sdkKey, salt } = await prepare(base);
    const exp = { salt };

    let httpBest = 0;
    const phases =
      process.env.BENCH_ONLY === 'writer'
        ? []
        : ([
            [100, 32],
            [1000, 16],
          ] as const);
    if (phases.length) {
      console.log(`POST /v1/events over HTTP (127.0.0.1), ${SECONDS} s per phase, autocannon in a child process on the same machine`);
      await runLoad(base, sdkKey, exp.salt, 100, 8, 3); // warm-up: JIT, connections, partitions
    }
    for (const [batch, connections] of phases) {
      const before = Number((await bench.dataSource.query('SELECT count(*) n FROM events'))[0].n);
      const r = await runLoad(base, sdkKey, exp.salt, batch, connections, SECONDS);
      const after = Number((await bench.dataSource.query('SELECT count(*) n FROM events'))[0].n);
      const eventsPerSecond = r.requestsPerSecond * batch;
      httpBest = Math.max(httpBest, eventsPerSecond);
      console.log(
        `  ${String(batch).padStart(5)}-event batches, ${connections} connections: ${Math.round(eventsPerSecond).toLocaleString('en-US')} events/s ` +
          `(${Math.round(r.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}, ` +
          `rows stored ${(after - before).toLocaleString('en-US')})`,
      );
    }
    await bench.closeApp();

    if (process.env.BENCH_ONLY === 'log') {
      // The direct path above is the baseline of the same run.
      await bench.stop();
      await logMode({ startApi: (env) => startBenchApi(ADMIN_KEY, { ...process.env, ...env }), prepare, runLoad }, SECONDS);
      return;
    }
    if (process.env.BENCH_ONLY === 'http') return;
    // The writer alone, on its own connection to the same database.
    const writer = new EventWriter(bench.databaseUrl, bench.config);
    try {
      await writer.maintainPartitions();
      await writerAlone(writer, 50_000, 1000, 8); // warm-up
      const w = await writerAlone(writer, 1_000_000, 1000, 20);
      const late = await writerAlone(writer, 200_000, 1000, 20, 'reverse');
      console.log(
        `writer alone (binary COPY into the id ledger and the day partitions, group commit, 20 producers × 1,000-row batches, 30 % exposures):`,
      );
      console.log(
        `  ${Math.round(w.rowsPerSecond).toLocaleString('en-US')} rows/s  (${w.stored.toLocaleString('en-US')} rows stored; event times in arrival order; ${w.cpuPerRow.toFixed(1)} µs of Node CPU per row)`,
      );
      console.log(
        `  ${Math.round(late.rowsPerSecond).toLocaleString('en-US')} rows/s  (${late.stored.toLocaleString('en-US')} rows stored; worst case: every exposure earlier than its unit's stored one; ${late.cpuPerRow.toFixed(1)} µs of Node CPU per row)`,
      );
      const http = phases.length === 0 ? 'not run' : httpBest >= 50_000 ? 'met' : 'MISSED';
      console.log(`  targets: HTTP ≥ 50,000 events/s: ${http}; writer ≥ 200,000 rows/s: ${w.rowsPerSecond >= 200_000 ? 'met' : 'MISSED'}`);
    } finally {
      await writer.onApplicationShutdown();
    }
    if (process.env.BENCH_FLOOR !== '0') await copyFloor(bench.databaseUrl);
  } finally {
    await bench.stop();
  }
}

if (process.argv[2] === '--load') {
  const [, , , url, key, salt, batch, connections, seconds] = process.argv;
  load(url, key, salt, Number(batch), Number(connections), Number(seconds)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
