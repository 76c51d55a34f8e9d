import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { apiEnv, freePort, json, killEverything, livePostmaster, spawnApi, trackPostmaster } from '../helpers/api-process';

/*
 * `npm start` after a crash: kill -9 of the API leaves its PostgreSQL running (the server is its own
 * process, in its own process group). Before the fix the next start failed on that server's
 * postmaster.pid. Now the start finds the server of its own data folder, sees that the Strata that
 * owned it is gone, stops it and starts afresh. Five crashes in a row, each start succeeds, nothing
 * written before a crash is lost; at the end `npm start` itself gets SIGTERM (npm's shell used to
 * swallow it) and stops the API and PostgreSQL within 10 s.
 */
const dir = mkdtempSync(join(tmpdir(), 'strata-crash-'));
chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach the folder
const cluster = join(dir, 'pg');
trackPostmaster(cluster);
const ADMIN = `sk_admin_${randomBytes(24).toString('base64url')}`;

afterAll(async () => {
  await killEverything();
  rmSync(dir, { recursive: true, force: true });
});

const layers = async (base: string): Promise<string[]> => {
  const res = await fetch(`${base}/v1/layers?limit=100`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(200);
  return ((await json<{ items: { key: string }[] }>(res)).items ?? []).map((l) => l.key).sort();
};

it('starts again after kill -9 of the API, five times in a row, keeping the data; SIGTERM to npm start stops everything', async () => {
  const pgPort = await freePort();
  const env = apiEnv({ STRATA_DATA_DIR: dir, STRATA_PG_PORT: String(pgPort), STRATA_ADMIN_KEY: ADMIN });
  const written: string[] = [];
  for (let round = 1; round <= 5; round++) {
    const api = spawnApi(env, 'start');
    const base = await api.ready();
    expect(await layers(base)).toEqual([...written].sort());
    const created = await fetch(`${base}/v1/layers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: `crash-${round}`, name: `Crash ${round}` }),
    });
    expect(created.status).toBe(201);
    written.push(`crash-${round}`);
    if (round > 1) expect(api.stdout()).toContain('left running by a Strata that did not stop cleanly');
    const postmaster = livePostmaster(cluster);
    expect(postmaster).not.toBeNull();
    // A crash: only the node process dies, as with the OOM killer or kill -9.
    process.kill(api.pid, 'SIGKILL');
    await api.exited;
    // Its PostgreSQL is still running: what the next start has to deal with.
    expect(livePostmaster(cluster)).toBe(postmaster);
  }

  const npm = spawnApi(env, 'npm');
  const base = await npm.ready();
  expect(await layers(base)).toEqual([...written].sort());
  expect(npm.stdout()).toContain(`embedded PostgreSQL on 127.0.0.1:${pgPort}`);
  const started = Date.now();
  process.kill(npm.pid, 'SIGTERM');
  const code = await npm.exited;
  const took = Date.now() - started;
  console.log(`SIGTERM to npm start: API and PostgreSQL stopped in ${took} ms`);
  expect(code, npm.stderr()).toBe(0);
  expect(took).toBeLessThan(10_000);
  expect(npm.stdout()).toContain('Strata stopped.');
  expect(livePostmaster(cluster)).toBeNull();
  expect(() => readFileSync(join(cluster, 'postmaster.pid'))).toThrow();
}, 300_000);

it('refuses a data folder whose PostgreSQL belongs to a Strata that is still running, in one line', async () => {
  const pgPort = await freePort();
  const env = apiEnv({ STRATA_DATA_DIR: dir, STRATA_PG_PORT: String(pgPort), STRATA_ADMIN_KEY: ADMIN });
  const first = spawnApi(env, 'main');
  await first.ready();
  const second = spawnApi(apiEnv({ STRATA_DATA_DIR: dir, STRATA_PG_PORT: String(await freePort()), STRATA_ADMIN_KEY: ADMIN }), 'main');
  expect(await second.exited).toBe(1);
  const lines = second.stderr().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/another Strata running on this data directory\? Process \d+ runs its server/);
  // The running one is untouched.
  expect(livePostmaster(cluster)).not.toBeNull();
  process.kill(first.pid, 'SIGTERM');
  expect(await first.exited).toBe(0);
}, 180_000);

it('fails with one clear line when STRATA_PG_PORT is taken', async () => {
  const { createServer } = await import('node:net');
  const holder = createServer();
  const port = await new Promise<number>((done) => holder.listen(0, '127.0.0.1', () => done((holder.address() as { port: number }).port)));
  try {
    const api = spawnApi(apiEnv({ STRATA_DATA_DIR: dir, STRATA_PG_PORT: String(port), STRATA_ADMIN_KEY: ADMIN }), 'main');
    expect(await api.exited).toBe(1);
    expect(api.stderr().trim()).toBe(
      `Port ${port} for the embedded PostgreSQL is in use: stop what listens there or set STRATA_PG_PORT to a free port.`,
    );
    expect(livePostmaster(cluster)).toBeNull();
  } finally {
    holder.close();
  }
}, 120_000);
