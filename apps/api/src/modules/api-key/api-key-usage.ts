import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/**
 * Writes `api_keys.last_used_at` (the dashboard's "Last used") without a query per request:
 * `record` only notes the time in memory, and a timer (every `auth.keyUsageFlushMs`, default a
 * minute) writes what arrived since its last run in one UPDATE, so a key is written at most once
 * per interval and nothing is written while no key is used. A plain column update: it bumps no
 * configuration version (only AuditService does) and no key reload follows.
 */
@Injectable()
export class ApiKeyUsage implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsage.name);
  /** Key id → the latest use (ms) not written yet. */
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** HOT PATH (every authenticated request, `POST /v1/assign` included): one map write, no I/O. */
  record(keyId: string): void {
    this.pending.set(keyId, Date.now());
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.auth.keyUsageFlushMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The last uses, while the database is still open (TypeORM's module closes it on application
   * shutdown); a use in the few milliseconds before the HTTP server closes is not kept.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Writes the uses noted so far; one at a time. A failed write keeps them for the next run. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(batch: Map<string, number>): Promise<void> {
    const ids = [...batch.keys()];
    const times = [...batch.values()].map((ms) => new Date(ms).toISOString());
    try {
      // Never moves a time back (another API process may have written a later use).
      await this.dataSource.query(
        `UPDATE api_keys SET last_used_at = v.t
           FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS t) v
          WHERE api_keys.id = v.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.t)`,
        [ids, times],
      );
    } catch (error) {
      this.logger.warn(`could not write the API keys' last use (kept for the next try): ${String(error)}`);
      // Uses noted meanwhile are newer than the failed batch's.
      for (const [id, ms] of batch) if (!this.pending.has(id)) this.pending.set(id, ms);
    }
  }
}
