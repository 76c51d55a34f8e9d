import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { apiEnv, freePort, json, killEverything, livePostmaster, spawnApi, trackPostmaster, type ApiProcess } from '../helpers/api-process';

/*
 * The fault run (bounded, well under 3 min): `npm start`'s process under a steady event load is hit by
 *   1. kill -9 of its PostgreSQL: the API stays up, answers 503 + Retry-After (events, /health) while the
 *      supervisor restarts the server with backoff, then accepts events again — no API restart;
 *   2. kill -9 of the API: the next start stops the orphaned server and comes up by itself;
 *   3. SIGTERM during the load: the API drains and stops PostgreSQL, exit 0 within 10 s.
 * Afterwards every event id answered 202 is stored exactly once; nothing needed a manual step.
 * (Slow clients and event overload are covered by their own specs.)
 */
const dir = mkdtempSync(join(tmpdir(), 'strata-faultrun-'));
chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach the folder
const cluster = join(dir, 'pg');
trackPostmaster(cluster);
const ADMIN = `sk_admin_${randomBytes(24).toString('base64url')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  await killEverything();
  rmSync(dir, { recursive: true, force: true });
});

it('loses no acknowledged event through kill -9 of PostgreSQL, kill -9 of the API and SIGTERM, and recovers by itself', async () => {
  const started = Date.now();
  const env = apiEnv({ STRATA_DATA_DIR: dir, STRATA_PG_PORT: String(await freePort()), STRATA_ADMIN_KEY: ADMIN });
  let api: ApiProcess = spawnApi(env, 'start');
  let base = await api.ready();
  const keyRes = await fetch(`${base}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'fault-run', type: 'sdk-server' }),
  });
  expect(keyRes.status).toBe(201);
  const sdk = (await json<{ secret: string }>(keyRes)).secret;

  const acked = new Set<string>();
  const sent = new Set<string>();
  const statuses = new Map<number, number>();
  const retryAfter = new Set<string>();
  let stop = false;
  const client = async (c: number): Promise<void> => {
    let n = 0;
    while (!stop) {
      const events = Array.from({ length: 100 }, () => ({ id: randomUUID(), type: 'metric', unitId: `c${c}-${n++}`, name: 'fault-run', value: 1 }));
      for (const e of events) sent.add(e.id);
      let status = -1;
      try {
        const res = await fetch(`${base}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sdk}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        if (status === 503) retryAfter.add(res.headers.get('retry-after') ?? 'none');
        const body = await json<{ accepted?: number }>(res);
        if (status === 202) {
          expect(body.accepted).toBe(100);
          for (const e of events) acked.add(e.id);
        }
      } catch {
        status = -1; // connection refused or reset: the API is down
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== 202) await sleep(50);
    }
  };
  const waitAcked = async (more: number, label: string): Promise<void> => {
    const target = acked.size + more;
    const deadline = Date.now() + 30_000;
    while (acked.size < target) {
      if (Date.now() > deadline) throw new Error(`${label}: no events acknowledged for 30 s (statuses ${JSON.stringify([...statuses])})`);
      await sleep(50);
    }
  };
  const clients = Array.from({ length: 4 }, (_, c) => client(c));
  try {
    await waitAcked(10_000, 'initial load');

    // 1. kill -9 of PostgreSQL under a running API.
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
    await waitAcked(10_000, 'after the PostgreSQL restart');
    const status503 = statuses.get(503) ?? 0;
    expect(status503).toBeGreaterThan(0);

    // 2. kill -9 of the API: the next start stops the orphaned PostgreSQL.
    process.kill(api.pid, 'SIGKILL');
    await api.exited;
    expect(livePostmaster(cluster)).not.toBeNull();
    api = spawnApi(env, 'start');
    base = await api.ready();
    expect(api.stdout()).toContain('left running by a Strata that did not stop cleanly');
    await waitAcked(10_000, 'after the API restart');

    // 3. SIGTERM during the load.
    const termAt = Date.now();
    process.kill(api.pid, 'SIGTERM');
    expect(await api.exited, api.stderr()).toBe(0);
    const stopMs = Date.now() - termAt;
    expect(stopMs).toBeLessThan(10_000);
    expect(livePostmaster(cluster)).toBeNull();
    stop = true;
    await Promise.all(clients);
    console.log(
      `fault run: ${acked.size} events acknowledged of ${sent.size} sent; statuses ${JSON.stringify(Object.fromEntries(statuses))}; SIGTERM stop ${stopMs} ms; total ${Date.now() - started} ms`,
    );
  } finally {
    stop = true;
    await Promise.all(clients).catch(() => undefined);
  }

  expect([...retryAfter].every((v) => /^\d+$/.test(v))).toBe(true);
  // Only 202, 503 and refused connections (while the API was down): never a 500.
  expect([...statuses.keys()].filter((s) => ![202, 503, -1].includes(s))).toEqual([]);

  // Read what was stored, on the same data folder.
  const pg = await startEmbeddedPostgres({ dataDir: dir, persistent: true, port: await freePort() });
  try {
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    try {
      const rows: { id: string; n: string }[] = (await db.query(`SELECT id::text AS id, count(*) AS n FROM events WHERE name = 'fault-run' GROUP BY id`)).rows;
      const stored = new Map(rows.map((r) => [r.id, Number(r.n)]));
      expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
      expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
      expect([...stored.keys()].filter((id) => !sent.has(id))).toEqual([]);
    } finally {
      await db.end();
    }
  } finally {
    await pg.stop();
  }
}, 180_000);
