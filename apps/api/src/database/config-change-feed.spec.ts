import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigChangeFeed } from './config-change-feed';

/** A database whose config_version the test sets; only the feed's version query is answered. */
function fakeDatabase(): { dataSource: DataSource; set(version: number): void } {
  let version = 1;
  const dataSource = { query: async () => [{ version: String(version) }] } as unknown as DataSource;
  return { dataSource, set: (v) => (version = v) };
}

let feed: ConfigChangeFeed | null = null;
afterEach(async () => {
  await feed?.stop();
  feed = null;
});

describe('ConfigChangeFeed', () => {
  it('advances its version only after every subscriber succeeded, retrying a failed one', async () => {
    const db = fakeDatabase();
    // Nothing listens on port 9: LISTEN fails and only the 20 ms poll reports changes.
    feed = new ConfigChangeFeed(db.dataSource, 'postgres://x:y@127.0.0.1:9/none', 20);
    let failuresLeft = 3;
    const applied: number[] = [];
    const other: number[] = [];
    feed.subscribe((v) => {
      if (failuresLeft-- > 0) throw new Error('permission denied for table api_keys');
      applied.push(v);
    });
    feed.subscribe((v) => {
      other.push(v);
    });
    await feed.start();
    expect(feed.status()).toMatchObject({ version: 1, behind: false, lastError: null });

    db.set(2);
    await expect.poll(() => feed!.status().lastError, { timeout: 2000, interval: 5 }).toContain('permission denied');
    expect(feed.status()).toMatchObject({ version: 1, behind: true });
    // The failing subscriber did not keep the other one from applying the change.
    expect(other[0]).toBe(2);

    await expect.poll(() => applied, { timeout: 3000, interval: 5 }).toEqual([2]);
    expect(feed.status()).toMatchObject({ version: 2, behind: false, lastError: null });
    // The subscribers ran once per attempt: three failures, then the success; then nothing more.
    await new Promise((r) => setTimeout(r, 100));
    expect(other).toEqual([2, 2, 2, 2]);
  });

  it('never runs the subscribers concurrently and coalesces versions that arrive meanwhile', async () => {
    const db = fakeDatabase();
    feed = new ConfigChangeFeed(db.dataSource, 'postgres://x:y@127.0.0.1:9/none', 5);
    let running = 0;
    let maxRunning = 0;
    const seen: number[] = [];
    feed.subscribe(async (v) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 50));
      seen.push(v);
      running--;
    });
    await feed.start();
    db.set(2);
    await new Promise((r) => setTimeout(r, 20));
    db.set(5);
    await expect.poll(() => feed!.status().version, { timeout: 2000, interval: 5 }).toBe(5);
    expect(maxRunning).toBe(1);
    expect(seen).toEqual([2, 5]);
  });

  it('reports how long ago it last confirmed its version is current', async () => {
    const db = fakeDatabase();
    let up = true;
    const dataSource = {
      query: async () => {
        if (!up) throw new Error('connection refused');
        return db.dataSource.query('');
      },
    } as unknown as DataSource;
    feed = new ConfigChangeFeed(dataSource, 'postgres://x:y@127.0.0.1:9/none', 20);
    await feed.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(feed.status().ageSeconds).toBeLessThan(0.1);
    up = false;
    await new Promise((r) => setTimeout(r, 400));
    expect(feed.status().ageSeconds).toBeGreaterThanOrEqual(0.3);
  });
});
