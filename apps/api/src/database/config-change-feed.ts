import { AsyncLocalStorage } from 'node:async_hooks';
import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

export const CONFIG_CHANNEL = 'strata_config';

const CHANGE_TYPES = ['api_key', 'layer', 'experiment', 'holdout'] as const;

/** What one configuration change touched: subscribers reload just that (keys never contain ':'). */
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
 * notifications arrive in commit order, each naming what changed.
 */
/** A change a request of this process committed: the version it bumped to and what it touched. */
export interface CommittedChange {
  version: number;
  change: ConfigChange;
}

/**
 * The changes the current request made (set up by ConfigReadYourWrites for every request that
 * may write configuration); bumpConfigVersion adds to it, so the request can wait, before it
 * answers, until this process applied them.
 */
export const requestChanges = new AsyncLocalStorage<CommittedChange[]>();

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
  requestChanges.getStore()?.push({ version, change });
  return version;
}

export async function readConfigVersion(dataSource: DataSource): Promise<number> {
  const rows: { version: string }[] = await dataSource.query('SELECT version FROM config_version WHERE id');
  return Number(rows[0]?.version ?? 0);
}

/**
 * A subscriber applies the configuration as it is now in the database (the version is a hint).
 * `changes` names every change since the version applied before, so the subscriber can re-read
 * just those entries (a change then costs the same at 2,000 experiments as at 20); null means
 * they are not all known (a notification missed, the poll saw the version first): reload
 * everything. It must reject when it could not: the feed then keeps its version where it was and
 * calls every subscriber again with the same changes, so no process is left on old state (a
 * revoked key still valid, a new experiment unknown) until the next change. Subscribers must be
 * idempotent.
 */
export type ConfigListener = (version: number, changes: readonly ConfigChange[] | null) => void | Promise<void>;

/** More unapplied versions than this are handed on as an unknown change (a full reload is cheaper then). */
const MAX_KNOWN_CHANGES = 1000;

/** What `/health` shows about this process's configuration. */
export interface ConfigFeedStatus {
  /** The version every subscriber has applied. */
  version: number;
  /** When this process applied it (ISO time). */
  appliedAt: string;
  /** Seconds since this process last confirmed that its version is the database's latest. */
  ageSeconds: number;
  /** A newer version is known and applying it failed; it is being retried. */
  behind: boolean;
  /** Why the last apply failed, while it keeps failing. */
  lastError: string | null;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * Tells subscribers when configuration changed anywhere: LISTEN for speed, plus a versioned
 * poll (every `pollMs`) so a dropped connection never leaves a process stale. The version
 * advances only once every subscriber succeeded; a failed apply is retried with backoff
 * (100 ms doubling to 5 s) until it succeeds.
 */
export class ConfigChangeFeed {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private appliedVersion = -1;
  private appliedAt = Date.now();
  private checkedAt = Date.now();
  /** The newest version heard of (notification or poll); > appliedVersion while behind. */
  private targetVersion = -1;
  private failures = 0;
  private lastError: string | null = null;
  /** What each notified version changed, until it is applied. */
  private readonly pending = new Map<number, ConfigChange>();
  /** The version the previous poll read. */
  private polledVersion = -1;
  /** One apply at a time: a notification and a poll must not run the subscribers concurrently. */
  private applying: Promise<void> | null = null;
  private readonly listeners = new Set<ConfigListener>();
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly url: string,
    private readonly pollMs = 1000,
  ) {}

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Read-your-writes in the process that made the changes: resolves once every subscriber applied
   * them (a started experiment is in this process's assignments and catalog, a revoked key refused)
   * or after `timeoutMs` (the feed keeps retrying; the caller answers anyway). Call after the
   * changes committed. Other processes follow on NOTIFY or the poll, as before.
   */
  async applyCommitted(changes: readonly CommittedChange[], timeoutMs = 2000): Promise<void> {
    if (changes.length === 0 || this.closed) return;
    let newest = 0;
    for (const c of changes) {
      if (c.version > this.appliedVersion) this.pending.set(c.version, c.change);
      newest = Math.max(newest, c.version);
    }
    const deadline = Date.now() + timeoutMs;
    // advance() shares an apply that is running; after a failure the backoff timer retries: wait for it.
    while (!this.closed && this.appliedVersion < newest) {
      await this.advance(newest, false);
      if (this.appliedVersion >= newest || Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_FIRST_MS, deadline - Date.now())).unref());
    }
  }

  async start(): Promise<void> {
    this.appliedVersion = await readConfigVersion(this.dataSource);
    this.targetVersion = this.appliedVersion;
    this.appliedAt = this.checkedAt = Date.now();
    await this.connectListener().catch(() => this.relisten());
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  status(): ConfigFeedStatus {
    return {
      version: this.appliedVersion,
      appliedAt: new Date(this.appliedAt).toISOString(),
      ageSeconds: Math.max(0, Math.round((Date.now() - this.checkedAt) / 100) / 10),
      behind: this.failures > 0 && this.targetVersion > this.appliedVersion,
      lastError: this.lastError,
    };
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
    await this.applying;
  }

  private relisten(): void {
    if (this.closed) return;
    // The poll keeps us current meanwhile.
    setTimeout(() => void this.connectListener().catch(() => this.relisten()), 2000).unref();
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.url, application_name: 'strata-listen' });
    client.on('error', () => {
      if (this.client === client) {
        this.client = null;
        this.relisten();
      }
    });
    client.on('notification', (msg) => {
      const { version, change } = parseChange(msg.payload ?? '');
      if (!Number.isFinite(version)) return;
      if (change !== null && version > this.appliedVersion) this.pending.set(version, change);
      void this.advance(version, false);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CONFIG_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
  }

  private async poll(): Promise<void> {
    let version: number;
    try {
      version = await readConfigVersion(this.dataSource);
    } catch {
      // Database unreachable: keep serving the last configuration; the next poll retries.
      return;
    }
    // A version the notifications have not brought yet is usually just in flight (committed a
    // moment ago): act on it only when it is still missing at the next poll, else every busy
    // second would cost each subscriber a full reload. Without a listener, act at once.
    const missed = this.polledVersion;
    this.polledVersion = version;
    if (this.client === null || version <= this.targetVersion) await this.advance(version, true);
    else if (missed > this.targetVersion) await this.advance(missed, true);
  }

  /** The changes from the applied version up to `target`, or null when one of them is unknown. */
  private changesUpTo(target: number): ConfigChange[] | null {
    if (target - this.appliedVersion > MAX_KNOWN_CHANGES) return null;
    const out: ConfigChange[] = [];
    for (let v = this.appliedVersion + 1; v <= target; v++) {
      const change = this.pending.get(v);
      if (change === undefined) return null;
      out.push(change);
    }
    return out;
  }

  /** `fromDatabase`: the version was just read from config_version, so an equal one confirms we are current. */
  private async advance(version: number, fromDatabase: boolean): Promise<void> {
    if (this.closed) return;
    const newer = version > this.targetVersion;
    if (newer) this.targetVersion = version;
    if (this.targetVersion <= this.appliedVersion) {
      if (fromDatabase) this.checkedAt = Date.now();
      return;
    }
    if (this.applying) return this.applying;
    // After a failure the backoff timer decides when to try again; only news of a newer version does not wait.
    if (this.retryTimer && !newer) return;
    this.applying = this.apply().finally(() => {
      this.applying = null;
    });
    return this.applying;
  }

  private async apply(): Promise<void> {
    // Loop: a newer version may arrive while the subscribers run.
    while (!this.closed && this.targetVersion > this.appliedVersion) {
      const target = this.targetVersion;
      const changes = this.changesUpTo(target);
      const errors: string[] = [];
      for (const listener of this.listeners) {
        try {
          await listener(target, changes);
        } catch (error) {
          // The others still run (each applies what it can); the version stays until all succeed.
          errors.push(error instanceof Error ? error.message : String(error));
        }
      }
      if (errors.length > 0) {
        this.failures++;
        this.lastError = errors.join('; ');
        this.scheduleRetry();
        return;
      }
      this.appliedVersion = target;
      for (const v of this.pending.keys()) if (v <= target) this.pending.delete(v);
      this.appliedAt = this.checkedAt = Date.now();
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.failures = 0;
      this.lastError = null;
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = Math.min(RETRY_FIRST_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.advance(this.targetVersion, false);
    }, delay);
    this.retryTimer.unref();
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
