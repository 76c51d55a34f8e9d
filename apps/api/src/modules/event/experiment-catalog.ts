import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hashUnit, pickVariant } from '@strata/bucketing';
import type { ExperimentStatus, ForcedVariantDto, VariantDto } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { ChangeBatcher, ConfigChangeFeed } from '../../database/config-change-feed';

/** What the collector needs to know about an experiment to check an exposure. */
export interface CatalogExperiment {
  key: string;
  status: ExperimentStatus;
  variantKeys: readonly string[];
  salt: string;
  /** cumulative[i] = w0 + … + wi, summed left to right exactly as libs/bucketing does. */
  cumulative: Float64Array;
  /** unitId → forced variant and expiry (epoch ms; Infinity = never). */
  forced: ReadonlyMap<string, { variant: string; expiresAt: number }>;
  /** Epoch ms; null while draft. */
  startedAt: number | null;
  /** Epoch ms; null unless stopped or shipped. */
  stoppedAt: number | null;
}

export interface ExperimentRow {
  key: string;
  status: ExperimentStatus;
  salt: string;
  variants: VariantDto[];
  forced_variants: ForcedVariantDto[] | null;
  started_at: Date | string | null;
  stopped_at: Date | string | null;
}

const TWO_TO_32 = 4294967296;

export function toCatalogExperiment(row: ExperimentRow): CatalogExperiment {
  const cumulative = new Float64Array(row.variants.length);
  let sum = 0;
  row.variants.forEach((v, i) => {
    sum += v.weight;
    cumulative[i] = sum;
  });
  const forced = new Map<string, { variant: string; expiresAt: number }>();
  for (const f of row.forced_variants ?? []) {
    forced.set(f.unitId, { variant: f.variant, expiresAt: f.expiresAt ? Date.parse(f.expiresAt) : Infinity });
  }
  return {
    key: row.key,
    status: row.status,
    salt: row.salt,
    variantKeys: row.variants.map((v) => v.key),
    cumulative,
    forced,
    startedAt: row.started_at === null ? null : new Date(row.started_at).getTime(),
    stoppedAt: row.stopped_at === null ? null : new Date(row.stopped_at).getTime(),
  };
}

/**
 * The variant a unit's deterministic assignment gives at time `ts`: its forced variant while that
 * has not expired, else the hash-based one (u = murmur3(`${salt}:${unitId}`) / 2^32 onto the
 * cumulative weights). Targeting and traffic are deliberately not checked: attributes may be
 * missing from the event and traffic may have ramped since.
 */
export function expectedVariant(e: CatalogExperiment, unitId: string, ts: number): { variant: string; forced: boolean } {
  const f = e.forced.get(unitId);
  if (f !== undefined && f.expiresAt > ts) return { variant: f.variant, forced: true };
  const u = hashUnit(e.salt, unitId) / TWO_TO_32;
  return { variant: e.variantKeys[pickVariant(e.cumulative, u)], forced: false };
}

const CATALOG_COLUMNS = 'key, status, salt, variants, forced_variants, started_at, stopped_at';
const RETRY_MS = 1000;

/**
 * Every experiment (any status) in memory, kept current by the configuration change feed:
 * a change to one experiment re-reads that row only, so a change costs the same at 2,000
 * experiments as at 20; an unknown change (missed notification) re-reads them all.
 * Ingestion must not query the database per event; this is what it reads.
 */
@Injectable()
export class ExperimentCatalog implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('experiment-catalog');
  private readonly byKey = new Map<string, CatalogExperiment>();
  private unsubscribe: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly batcher = new ChangeBatcher((keys) => this.load(keys));

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: ConfigChangeFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unsubscribe = this.feed.subscribe((_version, change) => {
      if (change === null) return this.refresh('all');
      if (change.entityType === 'experiment') return this.refresh(change.key);
    });
    await this.batcher.add('all');
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  get(key: string): CatalogExperiment | undefined {
    return this.byKey.get(key);
  }

  /** Re-reads every experiment. */
  reload(): Promise<void> {
    return this.refresh('all');
  }

  private async refresh(key: string | 'all'): Promise<void> {
    try {
      await this.batcher.add(key);
    } catch (error) {
      // Keep the last catalog and retry: the failed keys stay queued in the batcher.
      this.logger.warn(`experiment catalog reload failed: ${String(error)}`);
      if (this.unsubscribe !== null && this.retryTimer === null) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.refresh('all');
        }, RETRY_MS);
        this.retryTimer.unref();
      }
    }
  }

  private async load(keys: ReadonlySet<string> | 'all'): Promise<void> {
    if (keys === 'all') {
      const rows: ExperimentRow[] = await this.dataSource.query(`SELECT ${CATALOG_COLUMNS} FROM experiments`);
      this.byKey.clear();
      for (const r of rows) this.byKey.set(r.key, toCatalogExperiment(r));
      return;
    }
    const wanted = [...keys];
    const rows: ExperimentRow[] = await this.dataSource.query(`SELECT ${CATALOG_COLUMNS} FROM experiments WHERE key = ANY($1)`, [wanted]);
    const found = new Set(rows.map((r) => r.key));
    for (const k of wanted) if (!found.has(k)) this.byKey.delete(k);
    for (const r of rows) this.byKey.set(r.key, toCatalogExperiment(r));
  }
}
