import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { apiEnv, freePort, json, killEverything, livePostmaster, spawnApi, trackPostmaster, type ApiProcess } from '../helpers/api-process';
import { EventLoad, type RunningLoad } from './helpers/event-load';
import { openSlowClients, timedOutBodies, type SlowClients } from './helpers/slow-clients';

/*
 * The fault run (bounded, well under 3 min): `npm start`'s process under a steady event load is hit by
 *   1. slowloris: 300 connections trickle headers or an assign body while /v1/assign keeps answering;
 *      the server closes them all after its header/request timeouts;
 *   2. event overload: 24 more clients send 1,000-event batches (~150 KB) back to back against a
 *      1 MiB STRATA_MAX_INFLIGHT_BYTES: some are refused 503 + Retry-After, the rest acknowledged;
 *   3. kill -9 of its PostgreSQL: the API stays up, answers 503 + Retry-After (events, /health) while the
 *      supervisor restarts the server with backoff, then accepts events again — no API restart;
 *   4. kill -9 of the API: the next start stops the orphaned server and comes up by itself;
 *   5. SIGTERM during the load: the API drains and stops PostgreSQL, exit 0 within 10 s.
 * Afterwards every event id answered 202 in any phase is stored exactly once, every 503 carried a
 * Retry-After, nothing but 202, 503 and failed connections was seen, and nothing needed a manual step.
 */
const dir = mkdtempSync(join(tmpdir(), 'strata-faultrun-'));
chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach the folder
const cluster = join(dir, 'pg');
trackPostmaster(cluster);
const ADMIN = `sk_admin_${randomBytes(24).toString('base64url')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SLOW = 300;
const OVERLOAD_MS = 5_000;

afterAll(async () => {
  await killEverything();
  rmSync(dir, { recursive: true, force: true });
});

it('loses no acknowledged event through slowloris, event overload, kill -9 of PostgreSQL, kill -9 of the API and SIGTERM, and recovers by itself', async () => {
  const started = Date.now();
  const env = apiEnv({
    STRATA_DATA_DIR: dir,
    STRATA_PG_PORT: String(await freePort()),
    STRATA_ADMIN_KEY: ADMIN,
    // Low limits so that slow clients are cut off, and overload refused, within seconds.
    STRATA_HEADERS_TIMEOUT_MS: '2000',
    STRATA_REQUEST_TIMEOUT_MS: '5000',
    STRATA_MAX_INFLIGHT_BYTES: String(1024 * 1024),
  });
  let starts = 1;
  let api: ApiProcess = spawnApi(env, 'start');
  let base = await api.ready();
  const keyRes = await fetch(`${base}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'fault-run', type: 'sdk-server' }),
  });
  expect(keyRes.status).toBe(201);
  const sdk = (await json<{ secret: string }>(keyRes)).secret;
  // One running experiment, so that each /v1/assign answers one assignment.
  const admin = async (path: string, body: unknown): Promise<number> =>
    (await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
  expect(await admin('/v1/layers', { key: 'fault', name: 'Fault' })).toBe(201);
  expect(
    await admin('/v1/experiments', { key: 'fault-exp', name: 'Fault', layer: 'fault', traffic: 100, variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }] }),
  ).toBe(201);
  expect(await admin('/v1/experiments/fault-exp/start', {})).toBe(200);

  const load = new EventLoad(() => base, sdk, 'fault-run');
  const steady = load.run({ clients: 4, batch: 100, pauseMs: 50 });
  let overload: RunningLoad | null = null;
  let slow: SlowClients | null = null;
  const timings: Record<string, number> = {};
  let phaseStart = Date.now();
  const phase = (name: string): void => {
    timings[load.phase] = Date.now() - phaseStart;
    load.phase = name;
    phaseStart = Date.now();
  };
  try {
    await load.waitAcked(10_000, 'initial load');

    // 1. Slowloris under the load, /v1/assign answering meanwhile.
    phase('slowloris');
    slow = await openSlowClients(Number(new URL(base).port), SLOW, '/v1/assign', sdk);
    let assigned = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let n = 0; n < 25; n++) {
          const res = await fetch(`${base}/v1/assign`, {
            method: 'POST',
            headers: { authorization: `Bearer ${sdk}`, 'content-type': 'application/json' },
            body: JSON.stringify({ unitId: `a-${worker}-${n}` }),
          });
          if (res.status === 200 && (await json<{ assignments: unknown[] }>(res)).assignments.length === 1) assigned++;
        }
      }),
    );
    expect(assigned).toBe(100);
    expect(slow.open(), 'the slow connections were closed before the assignments ran').toBeGreaterThan(0);
    expect(await slow.waitClosed(30_000), 'slow connections still open').toBe(0);
    expect(timedOutBodies(slow)).toBe(SLOW / 2);
    slow.destroy();
    await load.waitAcked(1_000, 'during slowloris');

    // 2. Event overload beyond the bytes in flight.
    phase('overload');
    overload = load.run({ clients: 24, batch: 1000 });
    await sleep(OVERLOAD_MS);
    await overload.stop();
    expect(load.count('overload', 503)).toBeGreaterThan(0);
    expect(load.count('overload', 202)).toBeGreaterThan(0);
    await load.waitAcked(1_000, 'after the overload');

    // 3. kill -9 of PostgreSQL under a running API.
    phase('kill -9 postgres');

    const postmaster = livePostmaster(cluster);
    expect(postmaster).not.toBeNull();
    process.kill(postmaster!, 'SIGKILL');
    const healthSeen = new Set<number>();
    const adminSeen = new Set<string>();
    let healthRetryAfter: string | null = null;
    const recoverBy = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${base}/health`).catch(() => null);
      if (res) {
        healthSeen.add(res.status);
        if (res.status === 503) {
          healthRetryAfter = res.headers.get('retry-after');
          // A management read while the database is down: 503 + Retry-After, not a 500.
          const read = await fetch(`${base}/v1/layers`, { headers: { authorization: `Bearer ${ADMIN}` } });
          adminSeen.add(`${read.status} ${read.headers.get('retry-after')} ${(await json<{ error?: { code: string } }>(read))?.error?.code}`);
        }
        await res.text();
        if (res.status === 200 && healthSeen.has(503)) break;
      }
      if (Date.now() > recoverBy) throw new Error(`PostgreSQL not back within 30 s; /health said ${[...healthSeen]}\n${api.stdout()}`);
      await sleep(25);
    }
    expect(healthRetryAfter).toMatch(/^\d+$/);
    // Reads during the outage: 503 unavailable with Retry-After (or 200 from a request that raced the restart).
    expect([...adminSeen].filter((s) => !/^(503 \d+ unavailable|200 null undefined)$/.test(s))).toEqual([]);
    expect([...adminSeen].some((s) => s.startsWith('503'))).toBe(true);
    expect(api.child.exitCode).toBeNull(); // the same API process
    expect(api.stdout()).toMatch(/Embedded PostgreSQL exited \(SIGKILL\); restarting in/);
    expect(api.stdout()).toContain('Embedded PostgreSQL restarted');
    await load.waitAcked(10_000, 'after the PostgreSQL restart');
    expect(load.count('kill -9 postgres', 503)).toBeGreaterThan(0);

    // 4. kill -9 of the API: the next start stops the orphaned PostgreSQL.
    phase('kill -9 api');
    process.kill(api.pid, 'SIGKILL');
    await api.exited;
    expect(livePostmaster(cluster)).not.toBeNull();
    api = spawnApi(env, 'start');
    starts++;
    base = await api.ready();
    expect(api.stdout()).toContain('left running by a Strata that did not stop cleanly');
    await load.waitAcked(10_000, 'after the API restart');

    // 5. SIGTERM during the load.
    phase('sigterm');
    const termAt = Date.now();
    process.kill(api.pid, 'SIGTERM');
    expect(await api.exited, api.stderr()).toBe(0);
    const stopMs = Date.now() - termAt;
    expect(stopMs).toBeLessThan(10_000);
    expect(livePostmaster(cluster)).toBeNull();
    await steady.stop();
    phase('done');
    console.log(
      `fault run: ${load.acked.size} events acknowledged of ${load.sent.size} sent; outcomes (-1: no connection) ${load.summary()}; ` +
        `connection errors ${[...load.errors].join(', ') || 'none'}; Retry-After ${[...load.retryAfter].join(', ')}; SIGTERM stop ${stopMs} ms; ` +
        `phase ms ${JSON.stringify(timings)}; total ${Date.now() - started} ms`,
    );
  } finally {
    slow?.destroy();
    await Promise.all([steady.stop(), overload?.stop()]);
  }

  expect([...load.retryAfter].filter((v) => !/^\d+$/.test(v))).toEqual([]);
  expect(load.miscounted).toBe(0);
  // Only 202, 503 and failed connections: never a 500, 408 or 413.
  expect([...load.allOutcomes()].filter((s) => ![202, 503, -1].includes(s))).toEqual([]);
  // A connection fails only while the API is down or stopping, or when it closes a refused overload
  // request whose body is still on its way — not under slow clients nor while PostgreSQL restarts.
  expect(['load', 'slowloris', 'kill -9 postgres'].map((p) => [p, load.count(p, -1)])).toEqual([['load', 0], ['slowloris', 0], ['kill -9 postgres', 0]]);
  // No manual step: the API was restarted only by spawning `npm start`'s entry point again, once.
  expect(starts).toBe(2);

  // Read what was stored, on the same data folder.
  const pg = await startEmbeddedPostgres({ dataDir: dir, persistent: true, port: await freePort() });
  try {
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    try {
      const rows: { id: string; n: string }[] = (await db.query(`SELECT id::text AS id, count(*) AS n FROM events WHERE name = 'fault-run' GROUP BY id`)).rows;
      const stored = new Map(rows.map((r) => [r.id, Number(r.n)]));
      expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
      expect([...load.acked].filter((id) => !stored.has(id))).toEqual([]);
      expect([...stored.keys()].filter((id) => !load.sent.has(id))).toEqual([]);
    } finally {
      await db.end();
    }
  } finally {
    await pg.stop();
  }
}, 180_000);
