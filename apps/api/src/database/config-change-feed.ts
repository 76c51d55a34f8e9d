import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

export const CONFIG_CHANNEL = 'strata_config';

/**
 * Bumps the configuration version inside the caller's transaction and notifies every
 * API process (PostgreSQL delivers NOTIFY only on commit, so nobody sees a rolled-back change).
 */
export async function bumpConfigVersion(manager: EntityManager): Promise<number> {
  // A SELECT around the UPDATE: for a bare UPDATE, TypeORM's query() returns [rows, rowCount],
  // and the version read from it was undefined, so every NOTIFY said "0" and the other processes
  // (and this one) ignored it, converging only on the 1 s poll.
  const rows: { version: string }[] = await manager.query(
    'WITH bumped AS (UPDATE config_version SET version = version + 1, changed_at = now() WHERE id RETURNING version) SELECT version FROM bumped',
  );
  if (rows.length !== 1) throw new Error('config_version has no row: migrations have not run');
  const version = Number(rows[0].version);
  await manager.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, String(version)]);
  return version;
}

export async function readConfigVersion(dataSource: DataSource): Promise<number> {
  const rows: { version: string }[] = await dataSource.query('SELECT version FROM config_version WHERE id');
  return Number(rows[0]?.version ?? 0);
}

type Listener = (version: number) => void | Promise<void>;

/**
 * Tells subscribers when configuration changed anywhere: LISTEN for speed, plus a
 * versioned poll (every `pollMs`) so a dropped connection never leaves a process stale.
 */
export class ConfigChangeFeed {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastVersion = -1;
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
    await this.poll();
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
      const version = Number(msg.payload);
      if (Number.isFinite(version)) void this.emit(version);
    });
    await client.connect();
    await client.query(`LISTEN ${CONFIG_CHANNEL}`);
    this.client = client;
  }

  private async poll(): Promise<void> {
    try {
      const version = await readConfigVersion(this.dataSource);
      await this.emit(version);
    } catch {
      // Database unreachable: keep serving the last snapshot; the next poll retries.
    }
  }

  private async emit(version: number): Promise<void> {
    if (version <= this.lastVersion) return;
    this.lastVersion = version;
    for (const listener of this.listeners) {
      try {
        await listener(version);
      } catch {
        // A failing subscriber must not stop the others; it will catch up on the next change.
      }
    }
  }
}
