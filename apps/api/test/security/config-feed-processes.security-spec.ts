import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiEnv, json, killEverything, spawnApi } from '../helpers/api-process';
import { createTestDatabase } from '@strata/test-support/api';

/*
 * Two API processes (two real `main.ts` processes) on one database. A change made through A must
 * hold in B within 2 s: a revoked key is refused, a new experiment is assigned and its exposures
 * accepted. Also when B's first reload after the change failed: B connects as its own database
 * role, and the test revokes that role's SELECT privilege on the table B must reload (what a
 * mistaken GRANT/REVOKE by an operator does in production), makes the change, then grants it back.
 * Before the fix B had already advanced its version and swallowed the error, so it stayed on the
 * old state (the revoked key kept working) until the next change.
 */
const ADMIN = `sk_admin_${randomBytes(24).toString('base64url')}`;
const role = `strata_b_${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('hex');
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let owner: Client;
let a: string;
let b: string;

const call = async (base: string, method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
};

/** Polls `probe` every 20 ms until it returns true; resolves with the time it took (ms), or fails after `timeoutMs`. */
async function within(timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not effective within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const procA = spawnApi(apiEnv({ DATABASE_URL: db.url, STRATA_ADMIN_KEY: ADMIN }));
  a = await procA.ready();
  // A ran the migrations; B gets its own role with the privileges an API process needs.
  owner = new Client({ connectionString: db.url });
  await owner.connect();
  await owner.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await owner.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
  await owner.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
  await owner.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  const urlB = new URL(db.url);
  urlB.username = role;
  urlB.password = password;
  const procB = spawnApi(apiEnv({ DATABASE_URL: urlB.toString(), STRATA_ADMIN_KEY: ADMIN }));
  b = await procB.ready();
}, 180_000);

afterAll(async () => {
  await killEverything();
  await owner?.end().catch(() => undefined);
  await db?.drop().catch(() => undefined);
  const c = new Client({ connectionString: inject('adminDatabaseUrl') });
  await c.connect();
  await c.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await c.end();
});

const newKey = async (): Promise<string> => {
  const res = await call(a, 'POST', '/v1/api-keys', ADMIN, { name: `k-${randomUUID()}`, type: 'sdk-server' });
  expect(res.status).toBe(201);
  return res.body.secret as string;
};
const keyId = async (secret: string): Promise<string> => {
  const list = await call(a, 'GET', '/v1/api-keys?limit=200', ADMIN);
  return (list.body.items as { id: string; prefix: string }[]).find((k) => secret.startsWith(k.prefix))!.id;
};
const assignStatus = async (base: string, key: string): Promise<number> =>
  (await call(base, 'POST', '/v1/assign', key, { unitId: 'u-1', attributes: {} })).status;

async function startExperiment(key: string): Promise<void> {
  expect((await call(a, 'POST', '/v1/layers', ADMIN, { key: `l-${key}`, name: key })).status).toBe(201);
  const created = await call(a, 'POST', '/v1/experiments', ADMIN, {
    key,
    name: key,
    layer: `l-${key}`,
    traffic: 100,
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await call(a, 'POST', `/v1/experiments/${key}/start`, ADMIN)).status).toBe(200);
}

/** B assigns `unit` into the experiment and accepts that exposure. */
async function experimentLiveIn(base: string, sdk: string, experiment: string): Promise<boolean> {
  const assigned = await call(base, 'POST', '/v1/assign', sdk, { unitId: 'u-7', attributes: {} });
  const variant = (assigned.body?.assignments as { experiment: string; variant: string }[] | undefined)?.find((x) => x.experiment === experiment)?.variant;
  if (!variant) return false;
  const ingest = await call(base, 'POST', '/v1/events', sdk, { events: [{ id: randomUUID(), type: 'exposure', unitId: 'u-7', experiment, variant }] });
  return ingest.status === 202 && ingest.body.accepted === 1;
}

async function health(base: string): Promise<{ version: number; behind: boolean; ageSeconds: number; lastError: string | null }> {
  return (await call(base, 'GET', '/health', '')).body.config;
}

describe('configuration changes reach a second API process', () => {
  it('a revoked key is refused by the other process within 2 s', async () => {
    const sdk = await newKey();
    await within(2000, async () => (await assignStatus(b, sdk)) === 200);
    expect((await call(a, 'POST', `/v1/api-keys/${await keyId(sdk)}/revoke`, ADMIN)).status).toBe(200);
    const ms = await within(2000, async () => (await assignStatus(b, sdk)) === 401);
    console.log(`revocation effective in the second process after ${ms} ms`);
  });

  it('a new experiment is assigned and its exposures accepted by the other process within 2 s', async () => {
    const sdk = await newKey();
    await within(2000, async () => (await assignStatus(b, sdk)) === 200);
    await startExperiment('two-proc-new');
    const ms = await within(2000, () => experimentLiveIn(b, sdk, 'two-proc-new'));
    console.log(`new experiment effective in the second process after ${ms} ms`);
  });

  it('a revocation holds in the other process after its reload failed once', async () => {
    const sdk = await newKey();
    await within(2000, async () => (await assignStatus(b, sdk)) === 200);
    const before = await health(b);
    await owner.query(`REVOKE SELECT ON api_keys FROM ${role}`);
    let granted = false;
    try {
      expect((await call(a, 'POST', `/v1/api-keys/${await keyId(sdk)}/revoke`, ADMIN)).status).toBe(200);
      // B heard of the change and failed to reload its keys: /health says it is behind, and why.
      await within(3000, async () => {
        const h = await health(b);
        return h.behind && (h.lastError ?? '').includes('permission denied');
      });
      expect((await health(b)).version).toBe(before.version);
      await owner.query(`GRANT SELECT ON api_keys TO ${role}`);
      granted = true;
      const ms = await within(2000, async () => (await assignStatus(b, sdk)) === 401);
      console.log(`revocation effective ${ms} ms after the failed reload could succeed`);
      await within(2000, async () => {
        const h = await health(b);
        return !h.behind && h.lastError === null && h.version > before.version && h.ageSeconds < 2;
      });
    } finally {
      if (!granted) await owner.query(`GRANT SELECT ON api_keys TO ${role}`);
    }
  });

  it('a new experiment reaches the other process after its catalog reload failed once', async () => {
    const sdk = await newKey();
    await within(2000, async () => (await assignStatus(b, sdk)) === 200);
    await owner.query(`REVOKE SELECT ON experiments FROM ${role}`);
    let granted = false;
    try {
      await startExperiment('two-proc-after-failure');
      await within(3000, async () => (await health(b)).behind);
      expect(await experimentLiveIn(b, sdk, 'two-proc-after-failure')).toBe(false);
      await owner.query(`GRANT SELECT ON experiments TO ${role}`);
      granted = true;
      const ms = await within(2000, () => experimentLiveIn(b, sdk, 'two-proc-after-failure'));
      console.log(`new experiment effective ${ms} ms after the failed reload could succeed`);
    } finally {
      if (!granted) await owner.query(`GRANT SELECT ON experiments TO ${role}`);
    }
  });
});
