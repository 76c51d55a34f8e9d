import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { compileSnapshot, type CompiledSnapshot } from '@strata/bucketing';
import { compileRe2 } from '@strata/bucketing/regex';
import type { ConfigSnapshot } from '@strata/contracts';
import { DataSource } from 'typeorm';
import { ChangeBatcher, ConfigChangeFeed } from '../../database/config-change-feed';
import { SNAPSHOT_SQL, SnapshotAssembler, type SnapshotRows } from './snapshot-builder';
import { clientSnapshot } from './client-snapshot';

/** What one build produced, swapped in as a whole so readers never see a half-updated state. */
export interface SnapshotState {
  readonly snapshot: ConfigSnapshot;
  readonly compiled: CompiledSnapshot;
  /** The snapshot serialized once, served as is by `GET /v1/sdk/config`. */
  readonly json: string;
  /** Strong ETag: the quoted content version. */
  readonly etag: string;
  /** What `sdk-client` keys get (client-snapshot.ts: no forced variants, secure values hashed), serialized once. */
  readonly clientJson: string;
  readonly clientEtag: string;
}

/** setTimeout's ceiling (~24.8 days); later expiries are re-armed by the rebuild it triggers. */
const MAX_TIMER_MS = 2_147_483_647;
const RETRY_MS = 1000;
/** Batcher key of a layer change: the layers are re-read by every build anyway. */
const LAYERS = 'layers';
const EXPERIMENT = 'experiment:';

/**
 * Holds the configuration snapshot in memory for assignment and `GET /v1/sdk/config`.
 * Built on start, updated on every configuration change (ConfigChangeFeed: LISTEN + 1 s poll,
 * so processes sharing a database converge within ~1 s) and when the next forced variant
 * expires. A change re-reads only the experiment it names (SnapshotAssembler keeps the rest),
 * so its cost does not grow with the number of experiments; an unknown change re-reads all.
 * Builds are serialized and coalesced (one build for the changes that arrived meanwhile); a
 * failed build keeps serving the last good snapshot and retries.
 */
@Injectable()
export class ConfigSnapshotService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ConfigSnapshotService.name);
  private state: SnapshotState | null = null;
  private readonly assembler = new SnapshotAssembler();
  private readonly batcher = new ChangeBatcher((keys) => this.build(keys));
  private expiryTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: ConfigChangeFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    // Subscribe first: a change committed while the first build runs triggers another build.
    // The feed's contract: reject when the rebuild failed, so it keeps its version and retries.
    this.unsubscribe = this.changes.subscribe(async (_version, changes) => {
      if (changes === null) return this.batcher.add('all');
      // Layers and holdouts are re-read by every build: a change to either just needs one.
      const keys = changes.flatMap((c) => (c.entityType === 'experiment' ? [EXPERIMENT + c.key] : c.entityType === 'layer' || c.entityType === 'holdout' ? [LAYERS] : []));
      await Promise.all(keys.map((k) => this.batcher.add(k)));
    });
    await this.rebuild();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** The current state; throws only if called before the first build (i.e. before the app started). */
  current(): SnapshotState {
    if (this.state === null) throw new Error('ConfigSnapshotService used before its first build');
    return this.state;
  }

  get snapshot(): ConfigSnapshot {
    return this.current().snapshot;
  }

  get compiled(): CompiledSnapshot {
    return this.current().compiled;
  }

  get version(): string {
    return this.current().snapshot.version;
  }

  /**
   * Rebuilds everything from the database. Resolves once a build that started after this call
   * has finished; concurrent callers share one queued build.
   */
  rebuild(): Promise<void> {
    return this.batcher.add('all');
  }

  private rebuildInBackground(key: string | 'all'): Promise<void> {
    return this.batcher.add(key).catch((error: unknown) => {
      this.logger.warn(`Snapshot rebuild failed; serving version ${this.state?.snapshot.version ?? '(none)'} and retrying: ${String(error)}`);
      if (!this.closed && this.retryTimer === null) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.rebuildInBackground('all');
        }, RETRY_MS);
        this.retryTimer.unref();
      }
    });
  }

  private async build(keys: ReadonlySet<string> | 'all'): Promise<void> {
    if (this.closed) return;
    const experimentKeys = keys === 'all' ? null : [...keys].filter((k) => k.startsWith(EXPERIMENT)).map((k) => k.slice(EXPERIMENT.length));
    const rows: SnapshotRows[] = await this.dataSource.query(SNAPSHOT_SQL, [experimentKeys]);
    const now = new Date();
    this.assembler.apply(rows[0] ?? { layers: [], experiments: [] }, experimentKeys === null ? 'all' : new Set(experimentKeys), now.getTime());
    const { snapshot, nextExpiry, json } = this.assembler.build(now);
    this.armExpiryTimer(nextExpiry);
    if (this.state !== null && this.state.snapshot.version === snapshot.version) return;
    this.state = {
      snapshot,
      // RE2 (linear time) for `regex` targeting: a pattern can never stall the thread that assigns.
      compiled: compileSnapshot(snapshot, undefined, { regex: compileRe2 }),
      json,
      etag: `"${snapshot.version}"`,
      clientJson: JSON.stringify(clientSnapshot(snapshot)),
      clientEtag: `"${snapshot.version}-client"`,
    };
  }

  private armExpiryTimer(nextExpiry: number | null): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (nextExpiry === null || this.closed) return;
    // A few ms late so the expiry has certainly passed when the rebuild reads the clock.
    const delay = Math.min(Math.max(nextExpiry - Date.now() + 5, 0), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      void this.rebuildInBackground('all');
    }, delay);
    this.expiryTimer.unref();
  }
}
