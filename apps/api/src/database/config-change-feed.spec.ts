import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeBatcher, ConfigChangeFeed, formatChange, parseChange } from './config-change-feed';

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

  it('hands a version only the poll saw to the subscribers as an unknown change (reload everything)', async () => {
    const db = fakeDatabase();
    feed = new ConfigChangeFeed(db.dataSource, 'postgres://x:y@127.0.0.1:9/none', 5);
    const got: unknown[] = [];
    feed.subscribe((v, changes) => {
      got.push([v, changes]);
    });
    await feed.start();
    db.set(3);
    await expect.poll(() => got, { timeout: 2000, interval: 5 }).toEqual([[3, null]]);
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

describe('change notifications', () => {
  it('round-trip the version and what changed', () => {
    expect(parseChange(formatChange(7, { entityType: 'experiment', key: 'new-checkout' }))).toEqual({ version: 7, change: { entityType: 'experiment', key: 'new-checkout' } });
    expect(parseChange(formatChange(8, { entityType: 'api_key', key: '0b6f1e2a-7c11-4c2b-9d53-8a536f1c2a9e' })).change?.entityType).toBe('api_key');
  });

  it('treat a bare or unknown payload as an unknown change (reload everything)', () => {
    expect(parseChange('12')).toEqual({ version: 12, change: null });
    expect(parseChange('12:metric:purchase')).toEqual({ version: 12, change: null });
  });
});

describe('ChangeBatcher', () => {
  it('applies the keys added while a reload runs together, in order, one reload at a time', async () => {
    const applied: (string[] | 'all')[] = [];
    let active = 0;
    let release: () => void = () => undefined;
    let gate = new Promise<void>((r) => (release = r));
    const b = new ChangeBatcher(async (keys) => {
      active++;
      expect(active).toBe(1);
      applied.push(keys === 'all' ? 'all' : [...keys].sort());
      await gate;
      active--;
    });
    const first = b.add('a');
    await new Promise((r) => setTimeout(r, 5));
    const second = [b.add('c'), b.add('b'), b.add('c')];
    gate = Promise.resolve();
    release();
    await Promise.all([first, ...second]);
    expect(applied).toEqual([['a'], ['b', 'c']]);
  });

  it('turns everything into one full reload once "all" is asked for', async () => {
    const applied: (string[] | 'all')[] = [];
    const b = new ChangeBatcher(async (keys) => {
      applied.push(keys === 'all' ? 'all' : [...keys]);
    });
    await Promise.all([b.add('x'), b.add('all'), b.add('y')]);
    expect(applied).toEqual(['all']);
  });

  it('keeps the keys of a failed reload for the next one and rejects its callers', async () => {
    const applied: string[][] = [];
    let fail = true;
    const b = new ChangeBatcher(async (keys) => {
      if (keys === 'all') return;
      applied.push([...keys].sort());
      if (fail) throw new Error('database down');
    });
    await expect(b.add('a')).rejects.toThrow('database down');
    fail = false;
    await b.add('b');
    expect(applied).toEqual([['a'], ['a', 'b']]);
  });
});
