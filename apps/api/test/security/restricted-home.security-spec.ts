import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FALLBACK_ROOT } from '../../src/database/embedded-postgres';
import { apiEnv, freePort, json, killEverything, livePostmaster, spawnApi, trackPostmaster } from '../helpers/api-process';

/*
 * A checkout under a folder only its owner may enter (as root in /root, mode 700). As root, PostgreSQL
 * runs as the `postgres` user, which cannot reach <checkout>/.data: initdb died with "could not access
 * directory … Permission denied" and a stack. Now the cluster is kept under /var/lib/strata/<name>-<hash
 * of the data folder> (the data folder keeps the credentials), the start says so in one line, and
 * the same cluster is found again on the next start. Nothing's permissions are widened.
 */
const home = mkdtempSync(join(tmpdir(), 'strata-home-'));
chmodSync(home, 0o700);
const dataDir = join(home, 'strata', '.data');
mkdirSync(dataDir, { recursive: true });
const asRoot = userInfo().uid === 0;
const fallback = join(FALLBACK_ROOT, `strata-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
const cluster = asRoot ? join(fallback, 'pg') : join(dataDir, 'pg');
trackPostmaster(cluster);
const ADMIN = `sk_admin_${randomBytes(24).toString('base64url')}`;

afterAll(async () => {
  await killEverything();
  rmSync(home, { recursive: true, force: true });
  if (asRoot) rmSync(fallback, { recursive: true, force: true });
});

it('starts from a data folder inside a home only its owner may enter, and finds its data again', async () => {
  if (!asRoot) console.warn('[security] not root: PostgreSQL runs as this user, so the folder is reachable as is; checking that it starts');
  expect(statSync(home).mode & 0o777).toBe(0o700);
  const env = apiEnv({ STRATA_DATA_DIR: dataDir, STRATA_PG_PORT: String(await freePort()), STRATA_ADMIN_KEY: ADMIN });
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

  const first = spawnApi(env, 'main');
  const base = await first.ready();
  if (asRoot) {
    expect(first.stdout()).toContain(`PostgreSQL runs as user postgres, which cannot enter ${dataDir}; its cluster is kept in ${cluster} instead.`);
    expect(existsSync(join(cluster, 'PG_VERSION'))).toBe(true);
  }
  expect(first.stderr()).not.toContain('Permission denied');
  expect((await fetch(`${base}/v1/layers`, { method: 'POST', headers, body: JSON.stringify({ key: 'home', name: 'Home' }) })).status).toBe(201);
  process.kill(first.pid, 'SIGTERM');
  expect(await first.exited).toBe(0);
  expect(livePostmaster(cluster)).toBeNull();

  const second = spawnApi(env, 'main');
  const again = await second.ready();
  const list = await json<{ items: { key: string }[] }>(await fetch(`${again}/v1/layers`, { headers }));
  expect(list.items.map((l) => l.key)).toEqual(['home']);
  process.kill(second.pid, 'SIGTERM');
  expect(await second.exited).toBe(0);
  // The home folder kept its mode: nothing was opened up to make this work.
  expect(statSync(home).mode & 0o777).toBe(0o700);
}, 180_000);
