import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * PostgreSQL stops in the middle of a load and comes back on the same port and data folder:
 * clients must get 503 (never 2xx) for what was not written, every 2xx'd event must be stored,
 * and the collector must resume by itself.
 */
let dataDir: string;
let pg: EmbeddedPostgresHandle;
let t: TestApp;
let base: string;
let sdkKey: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'strata-fault-pg-'));
  // PostgreSQL runs as the `postgres` user when we are root: it must reach the folder.
  chmodSync(dataDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir, persistent: true, database: 'strata_fault' });
  t = await createTestApp({}, { databaseUrl: pg.url });
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'fault', type: 'sdk-server' })).body.secret;
  base = await t.listen();
}, 180_000);

afterAll(async () => {
  await t?.close().catch(() => undefined);
  await pg?.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

it('answers 503 while PostgreSQL is down, loses no acknowledged event and resumes without a restart', async () => {
  const acked = new Set<string>();
  const sent = new Set<string>();
  const statuses = new Map<number, number>();
  const retryAfter = new Set<string>();
  let stop = false;
  const client = async (c: number): Promise<void> => {
    let n = 0;
    while (!stop) {
      const events = Array.from({ length: 100 }, () => ({ id: randomUUID(), type: 'metric', unitId: `c${c}-${n++}`, name: 'fault' }));
      for (const e of events) sent.add(e.id);
      let status = 0;
      try {
        const res = await fetch(`${base}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        });
        status = res.status;
        if (status === 503) retryAfter.add(res.headers.get('retry-after') ?? 'none');
        const body = (await res.json()) as { accepted?: number };
        if (status === 202) {
          expect(body.accepted).toBe(100);
          for (const e of events) acked.add(e.id);
        }
      } catch {
        status = -1;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== 202) await new Promise((r) => setTimeout(r, 50));
    }
  };
  const clients = Array.from({ length: 10 }, (_, c) => client(c));
  await new Promise((r) => setTimeout(r, 1500));
  const ackedBeforeStop = acked.size;
  await pg.stop();
  await new Promise((r) => setTimeout(r, 2500));
  const ackedWhileDown = acked.size;
  pg = await startEmbeddedPostgres({ dataDir, persistent: true, database: 'strata_fault', port: pg.port });
  // Keep loading until the collector has written again by itself.
  const deadline = Date.now() + 30_000;
  const ackedAtRestart = acked.size;
  while (acked.size < ackedAtRestart + 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  stop = true;
  await Promise.all(clients);

  expect(ackedBeforeStop).toBeGreaterThan(0);
  expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect([...retryAfter].every((v) => /^\d+$/.test(v))).toBe(true);
  // Only 202 or 503: no 500, no dropped connection.
  expect([...statuses.keys()].sort()).toEqual([202, 503]);
  // It resumed after PostgreSQL came back, in the same process.
  expect(acked.size).toBeGreaterThanOrEqual(ackedAtRestart + 2000);
  // Nothing can be acknowledged in the window where the server is fully down (allowing those in flight at the stop).
  expect(ackedWhileDown - ackedBeforeStop).toBeLessThan(5000);

  const stored: { id: string }[] = await t.dataSource.query(`SELECT id FROM events WHERE name = 'fault'`);
  const storedIds = new Set(stored.map((r) => r.id));
  expect(stored.length).toBe(storedIds.size);
  const missing = [...acked].filter((id) => !storedIds.has(id));
  expect(missing).toEqual([]);
  // Stored ⊆ sent; stored may exceed acked only by events whose COMMIT raced the crash (answered 503; a retry dedups).
  expect([...storedIds].every((id) => sent.has(id))).toBe(true);
  expect(storedIds.size - acked.size).toBeLessThanOrEqual(1000);
}, 180_000);

it('refuses a second cluster on a data folder in use, saying why', async () => {
  await expect(startEmbeddedPostgres({ dataDir, persistent: true, database: 'strata_fault' })).rejects.toThrow(
    /another Strata running on this data directory[\s\S]*postmaster\.pid/,
  );
  // The running cluster is untouched.
  expect((await t.request('GET', '/health')).body).toMatchObject({ status: 'ok' });
}, 60_000);
