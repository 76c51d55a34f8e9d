import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_CHANNEL, ConfigChangeFeed } from '../../src/database/config-change-feed';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * Every configuration change bumps config_version and NOTIFYs it, so every API process (the
 * assignment snapshot, the collector's catalog) converges in milliseconds; the 1 s poll is only
 * the fallback for a dropped LISTEN connection.
 */
let t: TestApp;
let listener: Client;
const payloads: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  listener = new Client({ connectionString: t.databaseUrl });
  await listener.connect();
  listener.on('notification', (msg) => {
    if (msg.channel === CONFIG_CHANNEL) payloads.push(msg.payload ?? '');
  });
  await listener.query(`LISTEN ${CONFIG_CHANNEL}`);
});
afterAll(async () => {
  await listener?.end();
  await t?.close();
});

const version = async (): Promise<number> =>
  Number((await t.dataSource.query('SELECT version FROM config_version WHERE id'))[0].version);

describe('configuration change notifications', () => {
  it('carry the new config_version and what changed, one per change', async () => {
    const before = await version();
    payloads.length = 0;
    expect((await t.admin('POST', '/v1/layers', { key: 'feed-l1', name: 'Feed 1' })).status).toBe(201);
    expect((await t.admin('POST', '/v1/layers', { key: 'feed-l2', name: 'Feed 2' })).status).toBe(201);
    await expect.poll(() => payloads.length, { timeout: 5000, interval: 10 }).toBe(2);
    expect(payloads).toEqual([`${before + 1}:layer:feed-l1`, `${before + 2}:layer:feed-l2`]);
    expect(await version()).toBe(before + 2);
  });

  it('are not sent for changes no process holds in memory (metric definitions)', async () => {
    const before = await version();
    payloads.length = 0;
    expect((await t.admin('POST', '/v1/metrics', { key: 'feed-m1', name: 'Feed metric', type: 'count', eventName: 'feed_m1' })).status).toBe(201);
    expect((await t.admin('PATCH', '/v1/metrics/feed-m1', { name: 'Feed metric, renamed' })).status).toBe(200);
    expect((await t.admin('POST', '/v1/experiments', { key: 'feed-e1', name: 'Feed', layer: 'feed-l1', traffic: 10, variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }] })).status).toBe(201);
    await expect.poll(() => payloads.length, { timeout: 5000, interval: 10 }).toBe(1);
    expect(payloads).toEqual([`${before + 1}:experiment:feed-e1`]);
    // The audit log still has all three.
    const audit = await t.admin('GET', '/v1/audit?entityKey=feed-m1');
    expect((audit.body as { total: number }).total).toBe(2);
  });

  it('reach a listening process without waiting for its poll', async () => {
    // A feed whose poll would take a minute: only the notification can tell it in time.
    const feed = new ConfigChangeFeed(t.dataSource, t.databaseUrl, 60_000);
    const seen: number[] = [];
    const changes: unknown[] = [];
    feed.subscribe((v, change) => {
      seen.push(v);
      changes.push(change);
    });
    await feed.start();
    try {
      const before = await version();
      expect((await t.admin('POST', '/v1/layers', { key: 'feed-l3', name: 'Feed 3' })).status).toBe(201);
      await expect.poll(() => seen, { timeout: 5000, interval: 10 }).toEqual([before + 1]);
      expect(changes).toEqual([[{ entityType: 'layer', key: 'feed-l3' }]]);
    } finally {
      await feed.stop();
    }
  });

  it('are applied in the process that made them before it answers (read-your-writes)', async () => {
    // A subscriber as slow as a reload under load: without read-your-writes the start answered
    // before this process applied it, and the assignment sent right after it missed the experiment.
    const feed = t.app.get(ConfigChangeFeed);
    const unsubscribe = feed.subscribe(() => new Promise((resolve) => setTimeout(resolve, 300)));
    try {
      expect((await t.admin('POST', '/v1/experiments', { key: 'feed-ryw', name: 'RYW', layer: 'feed-l1', traffic: 100, variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }] })).status).toBe(201);
      expect((await t.admin('POST', '/v1/experiments/feed-ryw/start', {})).status).toBe(200);
      expect(feed.status().version).toBe(await version());
      const sdk = await t.admin<{ secret: string }>('POST', '/v1/api-keys', { name: 'ryw', type: 'sdk-server' });
      expect(sdk.status, JSON.stringify(sdk.body)).toBe(201);
      const assigned = await t.request<{ assignments: { experiment: string }[] }>('POST', '/v1/assign', { key: sdk.body.secret, body: { unitId: 'u-1', experiments: ['feed-ryw'] } });
      expect(assigned.status).toBe(200);
      expect(assigned.body.assignments.map((a) => a.experiment)).toEqual(['feed-ryw']);
      // Reads do not wait: nothing changed.
      expect(feed.status().version).toBe(await version());
    } finally {
      unsubscribe();
    }
  });
});
