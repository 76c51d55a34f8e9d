import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

export const CONFIG_CHANNEL = 'strata_config';

/** What one configuration change touched: subscribers reload just that (keys never contain ':'). */
const CHANGE_TYPES = ['api_key', 'layer', 'experiment'] as const;

export interface ConfigChange {
  entityType: (typeof CHANGE_TYPES)[number];
  key: string;
}

/** The NOTIFY payload: `<version>:<entityType>:<key>`. */
export function formatChange(version: number, change: ConfigChange): string {
  return `${version}:${change.entityType}:${change.key}`;
}

export function parseChange(payload: string): { version: number; change: ConfigChange | null } {
  const [v, entityType, ...rest] = payload.split(':');
  const key = rest.join(':');
  const known = CHANGE_TYPES.find((t) => t === entityType);
  return { version: Number(v), change: known !== undefined && key ? { entityType: known, key } : null };
}

/**
 * Bumps the configuration version inside the caller's transaction and notifies every
 * API process (PostgreSQL delivers NOTIFY only on commit, so nobody sees a rolled-back change).
 * The config_version row lock also orders the changes: versions commit in order, and
 * notifications arrive in commit order.
 */
export async function bumpConfigVersion(manager: EntityManager, change: ConfigChange): Promise<number> {
  // A SELECT around the UPDATE: for a bare UPDATE, TypeORM's query() returns [rows, rowCount],
  // and the version read from it was undefined, so every NOTIFY said "0" and the other processes
  // (and this one) ignored it, converging only on the 1 s poll.
  const rows: { version: string }[] = await manager.query(
    'WITH bumped AS (UPDATE config_version SET version = version + 1, changed_at = now() WHERE id RETURNING version) SELECT version FROM bumped',
  );
  if (rows.length !== 1) throw new Error('config_version has no row: migrations have not run');
  const version = Number(rows[0].version);
  await manager.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, formatChange(version, change)]);
  return version;
}

export async function readConfigVersion(dataSource: DataSource): Promise<number> {
  const rows: { version: string }[] = await dataSource.query('SELECT version FROM config_version WHERE id');
  return Number(rows[0]?.version ?? 0);
}

/**
 * `change` names what changed, or is null when that is not known (the poll saw a newer version,
 * or a notification was missed): the subscriber must then reload everything it holds.
 */
type Listener = (version: number, change: ConfigChange | null) => void | Promise<void>;

/**
 * Tells subscribers when configuration changed anywhere: LISTEN for speed, plus a
 * versioned poll (every `pollMs`) so a dropped connection never leaves a process stale.
 * Each notification says what changed, so subscribers update only that entry (a change costs
 * the same at 20 experiments as at 2,000); subscribers are called without waiting for each
 * other's reload and must serialize their own work (ChangeBatcher does).
 */
export class ConfigChangeFeed {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastVersion = -1;
  /** What the previous poll read. */
  private polledVersion = -1;
  private readonly listeners = new Set<Listener>();
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly url: string,
    private readonly pollMs = 1000,
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.lastVersion = await readConfigVersion(this.dataSource);
    await this.connectListener();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  /** Call after a local change so this process converges at once. */
  async refresh(): Promise<void> {
    this.emit(await readConfigVersion(this.dataSource), null);
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.url, application_name: 'strata-listen' });
    client.on('error', () => {
      // The poll keeps us current; try to listen again shortly.
      if (this.client === client) this.client = null;
      setTimeout(() => void this.connectListener().catch(() => undefined), 2000).unref();
    });
    client.on('notification', (msg) => {
      const { version, change } = parseChange(msg.payload ?? '');
      if (Number.isFinite(version)) this.emit(version, change);
    });
    await client.connect();
    await client.query(`LISTEN ${CONFIG_CHANNEL}`);
    this.client = client;
  }

  private async poll(): Promise<void> {
    try {
      const version = await readConfigVersion(this.dataSource);
      // A version the notifications have not brought yet is usually just in flight (committed
      // a moment ago): act on it only when it is still missing at the next poll, else every
      // busy second would cost each subscriber a full reload. Without a listener, act at once.
      const missed = this.polledVersion;
      this.polledVersion = version;
      if (this.client === null) this.emit(version, null);
      else if (missed > this.lastVersion) this.emit(missed, null);
    } catch {
      // Database unreachable: keep serving the last snapshot; the next poll retries.
    }
  }

  private emit(version: number, change: ConfigChange | null): void {
    if (version <= this.lastVersion) return;
    // A skipped version (a notification lost, or seen first by the poll) is an unknown change.
    const known = version === this.lastVersion + 1 ? change : null;
    this.lastVersion = version;
    for (const listener of this.listeners) {
      try {
        // A failing subscriber must not stop the others; it will catch up on the next change.
        void Promise.resolve(listener(version, known)).catch(() => undefined);
      } catch {
        // (a synchronous throw, likewise)
      }
    }
  }
}

/**
 * Serializes and coalesces a subscriber's reloads: the keys changed while a reload runs are
 * applied together by the next one; 'all' stands for "reload everything". A failed reload
 * keeps its keys for the next attempt.
 */
export class ChangeBatcher {
  private dirty: Set<string> | 'all' = new Set();
  private running: Promise<void> | null = null;
  private waiters: { done: () => void; fail: (error: unknown) => void }[] = [];

  constructor(private readonly apply: (keys: ReadonlySet<string> | 'all') => Promise<void>) {}

  /** Resolves once a reload that started after this call has applied `key`. */
  add(key: string | 'all'): Promise<void> {
    if (key === 'all') this.dirty = 'all';
    else if (this.dirty !== 'all') this.dirty.add(key);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ done: resolve, fail: reject }));
    if (this.running === null) this.running = this.drain();
    return done;
  }

  private pending(): Set<string> | 'all' {
    return this.dirty;
  }

  private async drain(): Promise<void> {
    // Yield once so changes arriving in the same tick share one reload.
    await Promise.resolve();
    while (this.waiters.length > 0) {
      const keys = this.dirty;
      const waiters = this.waiters;
      this.dirty = new Set();
      this.waiters = [];
      try {
        await this.apply(keys);
        for (const w of waiters) w.done();
      } catch (error) {
        // (Read through a method: TypeScript would keep this.dirty narrowed across the await.)
        const pending = this.pending();
        if (keys === 'all' || pending === 'all') this.dirty = 'all';
        else for (const k of keys) pending.add(k);
        for (const w of waiters) w.fail(error);
        break;
      }
    }
    this.running = null;
  }
}
