import type { ApiKeyDto, Page } from '@strata/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * api_keys.last_used_at (the dashboard's "Last used"): noted in memory when a key authenticates,
 * on Fastify's routes and the fast POST /v1/assign alike, and written in one batched UPDATE
 * per interval (100 ms here), without touching the configuration version.
 */
let t: TestApp;
let base: string;

const version = async (app: TestApp = t): Promise<number> =>
  Number((await app.dataSource.query('SELECT version FROM config_version WHERE id'))[0].version);

async function lastUsed(id: string): Promise<string | null> {
  const res = await t.admin<Page<ApiKeyDto>>('GET', '/v1/api-keys?limit=100');
  expect(res.status).toBe(200);
  const key = res.body.items.find((k) => k.id === id);
  if (key === undefined) throw new Error(`key ${id} not listed`);
  return key.lastUsedAt;
}

async function createKey(name: string, type: ApiKeyDto['type']): Promise<{ id: string; secret: string }> {
  const res = await t.admin<{ id: string; secret: string }>('POST', '/v1/api-keys', { name, type });
  expect(res.status).toBe(201);
  return res.body;
}

async function healthVersion(): Promise<number> {
  const res = await t.request<{ config: { version: number } }>('GET', '/health', { key: null });
  return res.body.config.version;
}

function withinLastMinute(iso: string | null): void {
  expect(iso).not.toBeNull();
  const age = Date.now() - Date.parse(iso ?? '');
  expect(age).toBeGreaterThanOrEqual(-1000);
  expect(age).toBeLessThan(60_000);
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_API_KEY_USAGE_FLUSH_MS: '100' });
  base = await t.listen();
});
afterAll(async () => {
  await t?.close();
});

describe('API key last use', () => {
  it('is written after the key is used on a Fastify route and on the fast POST /v1/assign, leaving the config version alone', async () => {
    const sdk = await createKey('last-used sdk', 'sdk-server');
    const fast = await createKey('last-used fast', 'sdk-server');
    const ops = await createKey('last-used ops', 'admin');
    const before = await version();
    // This process has applied the key creations: what /health reports from now on is ours to compare.
    await expect.poll(healthVersion, { timeout: 5000, interval: 20 }).toBe(before);
    for (const k of [sdk, fast, ops]) expect(await lastUsed(k.id)).toBeNull();

    expect((await t.request('GET', '/v1/sdk/config', { key: sdk.secret })).status).toBe(200);
    expect((await t.request('GET', '/v1/experiments', { key: ops.secret })).status).toBe(200);
    // Over a real socket: Node's handler answers it before Fastify (fast-routes.ts).
    const assigned = await fetch(`${base}/v1/assign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fast.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ unitId: 'u-1' }),
    });
    expect(assigned.status).toBe(200);

    for (const k of [sdk, fast, ops]) {
      await expect.poll(() => lastUsed(k.id), { timeout: 5000, interval: 50 }).not.toBeNull();
      withinLastMinute(await lastUsed(k.id));
    }
    expect(await version()).toBe(before);
    expect(await healthVersion()).toBe(before);
  });

  it('is written at shutdown for uses the timer has not written yet', async () => {
    const key = await createKey('last-used at shutdown', 'sdk-server');
    // A second API process on the same database whose timer would wait an hour.
    const other = await createTestApp({ STRATA_API_KEY_USAGE_FLUSH_MS: '3600000' }, { databaseUrl: t.databaseUrl });
    try {
      expect((await other.request('GET', '/v1/sdk/config', { key: key.secret })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await lastUsed(key.id)).toBeNull();
    } finally {
      await other.close();
    }
    withinLastMinute(await lastUsed(key.id));
  });
});
