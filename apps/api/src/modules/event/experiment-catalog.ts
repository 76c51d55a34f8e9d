import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hashUnit, pickVariant } from '@strata/bucketing';
import { BUCKETS_PER_LAYER, HOLDOUT_ARM, HOLDOUT_EXPOSURE_PREFIX, REST_ARM, SHIP_DEFAULT_ARM, SHIP_EXPOSURE_PREFIX, SHIP_WINNER_ARM, type ExperimentStatus, type ForcedVariantDto, type VariantDto } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { ChangeBatcher, ConfigChangeFeed, type ConfigChange } from '../../database/config-change-feed';

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
  /** Absent in rows of tests built before staged ships. */
  ship_buckets?: number | null;
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

const CATALOG_COLUMNS = 'key, status, salt, variants, forced_variants, started_at, stopped_at, ship_buckets';

/**
 * A staged ship as the collector checks its exposures (`ship:<key>`): two "variants", `winner`
 * (ship draw below the current share) and `default`, by the salt `${salt}:ship` (the ship draw
 * hashes `${salt}:ship:${unitId}`), so `expectedVariant` applies unchanged. Checked against the
 * current share: an exposure sent after the share moved past its unit is refused as a mismatch
 * (rare, and it only thins the sample). Null when the experiment is no staged ship.
 */
export function shipCatalogEntry(row: ExperimentRow): CatalogExperiment | null {
  if (row.status !== 'shipped' || row.ship_buckets === undefined || row.ship_buckets === null || row.stopped_at === null) return null;
  return {
    key: SHIP_EXPOSURE_PREFIX + row.key,
    status: 'running',
    salt: `${row.salt}:ship`,
    variantKeys: [SHIP_WINNER_ARM, SHIP_DEFAULT_ARM],
    cumulative: Float64Array.of(row.ship_buckets / BUCKETS_PER_LAYER, 1),
    forced: new Map(),
    startedAt: new Date(row.stopped_at).getTime(),
    stoppedAt: null,
  };
}

/** Batcher key of a holdout change (":" is in no experiment key): the holdouts are few and re-read together. */
const HOLDOUTS = ':holdouts';

/**
 * A holdout as the collector checks its exposures (`holdout:<key>`): two "variants", `holdout`
 * (u < share) and `rest`, by the holdout's salt, so `expectedVariant` applies unchanged.
 */
export function holdoutCatalogEntry(row: { key: string; salt: string; share: number; created_at: Date | string }): CatalogExperiment {
  return {
    key: HOLDOUT_EXPOSURE_PREFIX + row.key,
    status: 'running',
    salt: row.salt,
    variantKeys: [HOLDOUT_ARM, REST_ARM],
    cumulative: Float64Array.of(Number(row.share), 1),
    forced: new Map(),
    startedAt: new Date(row.created_at).getTime(),
    stoppedAt: null,
  };
}

/** The experiments a batch of changes touched, or 'all' when they are not known. */
export function experimentKeysOf(changes: readonly ConfigChange[] | null): Set<string> | 'all' {
  if (changes === null) return 'all';
  return new Set(changes.filter((c) => c.entityType === 'experiment').map((c) => c.key));
}

/**
 * Every experiment (any status) in memory, kept current by the configuration change feed:
 * a change to one experiment re-reads that row only, so a change costs the same at 2,000
 * experiments as at 20; an unknown change (missed notification) re-reads them all. A failed
 * reload keeps the last catalog and is retried by the feed.
 * Ingestion must not query the database per event; this is what it reads.
 */
@Injectable()
export class ExperimentCatalog implements OnModuleInit, OnModuleDestroy {
  private readonly byKey = new Map<string, CatalogExperiment>();
  private holdouts = new Map<string, CatalogExperiment>();
  /** Staged ships by `ship:<key>`, derived from their experiment rows. */
  private readonly ships = new Map<string, CatalogExperiment>();
  private unsubscribe: (() => void) | null = null;
  private readonly batcher = new ChangeBatcher((keys) => this.load(keys));

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: ConfigChangeFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    // Rejects when the rows could not be read: the feed keeps its version and retries.
    this.unsubscribe = this.feed.subscribe(async (_version, changes) => {
      const keys = experimentKeysOf(changes);
      if (keys === 'all') await this.batcher.add('all');
      else {
        if (changes?.some((c) => c.entityType === 'holdout')) keys.add(HOLDOUTS);
        await Promise.all([...keys].map((k) => this.batcher.add(k)));
      }
    });
    await this.reload();
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** An experiment, a holdout by `holdout:<key>`, or a staged ship by `ship:<key>`. */
  get(key: string): CatalogExperiment | undefined {
    return this.byKey.get(key) ?? this.holdouts.get(key) ?? this.ships.get(key);
  }

  private put(r: ExperimentRow): void {
    this.byKey.set(r.key, toCatalogExperiment(r));
    const ship = shipCatalogEntry(r);
    if (ship === null) this.ships.delete(SHIP_EXPOSURE_PREFIX + r.key);
    else this.ships.set(ship.key, ship);
  }

  /** Re-reads every experiment; rejects when the catalog could not be read (the last one stays). */
  reload(): Promise<void> {
    return this.batcher.add('all');
  }

  private async load(keys: ReadonlySet<string> | 'all'): Promise<void> {
    if (keys === 'all' || keys.has(HOLDOUTS)) {
      const rows: { key: string; salt: string; share: number; created_at: Date }[] = await this.dataSource.query('SELECT key, salt, share, created_at FROM holdouts');
      this.holdouts = new Map(rows.map((r) => [HOLDOUT_EXPOSURE_PREFIX + r.key, holdoutCatalogEntry(r)]));
    }
    if (keys === 'all') {
      const rows: ExperimentRow[] = await this.dataSource.query(`SELECT ${CATALOG_COLUMNS} FROM experiments`);
      this.byKey.clear();
      this.ships.clear();
      for (const r of rows) this.put(r);
      return;
    }
    const wanted = [...keys].filter((k) => k !== HOLDOUTS);
    if (wanted.length === 0) return;
    const rows: ExperimentRow[] = await this.dataSource.query(`SELECT ${CATALOG_COLUMNS} FROM experiments WHERE key = ANY($1)`, [wanted]);
    const found = new Set(rows.map((r) => r.key));
    for (const k of wanted) {
      if (found.has(k)) continue;
      this.byKey.delete(k);
      this.ships.delete(SHIP_EXPOSURE_PREFIX + k);
    }
    for (const r of rows) this.put(r);
  }
}
