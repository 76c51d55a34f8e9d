import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { compileSnapshot, type CompiledSnapshot } from '@strata/bucketing';
import { compileRe2 } from '@strata/bucketing/regex';
import type { ApiKeyType, ConfigSnapshot } from '@strata/contracts';
import { DataSource } from 'typeorm';
import { ChangeBatcher, ConfigChangeFeed, type ConfigChange } from '../../database/config-change-feed';
import { clientSnapshot } from './client-snapshot';
import { CONFIG_SQL, type ConfigExperimentRow, type ConfigRows } from './config-query';
import { ExperimentCatalog, type ExperimentRow } from './experiment-catalog';
import { SnapshotAssembler, type SnapshotExperimentRow } from './snapshot-builder';

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

/** An active API key as authentication sees it. */
export interface CachedKey {
  id: string;
  type: ApiKeyType;
  /** Named in the audit log for what this key changes. */
  name: string;
}

/** setTimeout's ceiling (~24.8 days); later expiries are re-armed by the rebuild it triggers. */
const MAX_TIMER_MS = 2_147_483_647;
/** Batcher keys besides experiment keys (":" is in no experiment key). Layers and holdouts are re-read by every read anyway. */
const LAYERS = ':layers';
const API_KEYS = ':api_keys';

function batchKey(change: ConfigChange): string {
  switch (change.entityType) {
    case 'experiment':
      return change.key;
    case 'layer':
    case 'holdout':
      return LAYERS;
    case 'api_key':
      return API_KEYS;
  }
}

const served = (e: ConfigExperimentRow): e is ConfigExperimentRow & SnapshotExperimentRow => e.status === 'running' || e.status === 'shipped';

const catalogRow = (e: ConfigExperimentRow): ExperimentRow => ({
  key: e.key,
  status: e.status,
  salt: e.salt,
  variants: e.variants,
  forced_variants: e.forcedVariants,
  started_at: e.startedAt,
  stopped_at: e.stoppedAt,
  ship_buckets: e.shipBuckets ?? null,
});

/**
 * The one owner of the configuration every API process holds in memory: per configuration version
 * it reads what changed once (CONFIG_SQL: one statement, one MVCC snapshot) and derives from it
 * (a) the compiled snapshot for assignment and `GET /v1/sdk/config` (running and shipped
 * experiments), (b) the experiment catalog for event ingest (every status, with start and stop
 * times, and the holdouts), (c) the map of active API keys.
 *
 * Kept current by ConfigChangeFeed (LISTEN + 1 s poll, so processes sharing a database converge
 * within ~1 s): a change re-reads only the experiment it names, so its cost does not grow with
 * the number of experiments; the keys are re-read only for a key change; an unknown change
 * re-reads everything. Reads are serialized and coalesced (one read for the changes that arrived
 * meanwhile). A failed read keeps all three views as they were and rejects, so the feed keeps its
 * version (/health: `behind`, `lastError`) and retries it with its backoff (100 ms doubling to 5 s):
 * the one retry policy. A forced variant's expiry rebuilds the snapshot from the rows in memory,
 * with no read.
 */
@Injectable()
export class ConfigStateService implements OnModuleInit, OnApplicationShutdown {
  private state: SnapshotState | null = null;
  private readonly assembler = new SnapshotAssembler();
  /** The catalog is applied in place (its readers are synchronous, so they never see half a read). */
  readonly catalog = new ExperimentCatalog();
  private keys: ReadonlyMap<string, CachedKey> = new Map();
  private readonly batcher = new ChangeBatcher((keys) => this.read(keys));
  private expiryTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: ConfigChangeFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    // Subscribe first: a change committed while the first read runs triggers another read.
    this.unsubscribe = this.feed.subscribe((_version, changes) => this.refresh(changes));
    await this.reload();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
  }

  /** The current snapshot; throws only if called before the first read (i.e. before the app started). */
  snapshot(): SnapshotState {
    if (this.state === null) throw new Error('ConfigStateService used before its first read');
    return this.state;
  }

  get compiled(): CompiledSnapshot {
    return this.snapshot().compiled;
  }

  /** Active keys by secret hash. Replaced (a new map) by every read of the keys, never changed in place. */
  get apiKeys(): ReadonlyMap<string, CachedKey> {
    return this.keys;
  }

  /**
   * Re-reads what `changes` touched (null: everything). Resolves once a read that started after
   * this call has applied them; rejects when it failed (the views stay as they were).
   */
  async refresh(changes: readonly ConfigChange[] | null): Promise<void> {
    if (changes === null) return this.batcher.add('all');
    await Promise.all([...new Set(changes.map(batchKey))].map((k) => this.batcher.add(k)));
  }

  /** Re-reads everything; concurrent callers share one queued read. */
  reload(): Promise<void> {
    return this.batcher.add('all');
  }

  private async read(keys: ReadonlySet<string> | 'all'): Promise<void> {
    if (this.closed) return;
    const experimentKeys = keys === 'all' ? null : [...keys].filter((k) => !k.startsWith(':'));
    const rows: ConfigRows[] = await this.dataSource.query(CONFIG_SQL, [experimentKeys, keys === 'all' || keys.has(API_KEYS)]);
    const config = rows[0];
    if (config.apiKeys !== null) this.keys = new Map(config.apiKeys.map((k) => [k.secretHash, { id: k.id, type: k.type, name: k.name }]));
    // Only keys changed: the snapshot and the catalog are as they were (no re-join of the snapshot).
    if (keys !== 'all' && keys.size === 1 && keys.has(API_KEYS)) return;
    const changed = experimentKeys === null ? 'all' : new Set(experimentKeys);
    const now = new Date();
    this.catalog.apply(
      config.experiments.map(catalogRow),
      config.holdouts.map((h) => ({ key: h.key, salt: h.salt, share: h.share, created_at: h.createdAt })),
      changed,
    );
    this.assembler.apply({ layers: config.layers, holdouts: config.holdouts, experiments: config.experiments.filter(served) }, changed, now.getTime());
    this.publishSnapshot(now);
  }

  private publishSnapshot(now: Date): void {
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
      const now = new Date();
      this.assembler.expire(now.getTime());
      this.publishSnapshot(now);
    }, delay);
    this.expiryTimer.unref();
  }
}
