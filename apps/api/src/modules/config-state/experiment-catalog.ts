import { cumulativeWeights, hashPrefix, pickVariant, variantDraw, type HashPrefix } from '@strata/bucketing';
import {
  BUCKETS_PER_LAYER,
  HOLDOUT_ARM,
  HOLDOUT_EXPOSURE_PREFIX,
  REST_ARM,
  SHIP_DEFAULT_ARM,
  SHIP_EXPOSURE_PREFIX,
  SHIP_WINNER_ARM,
  type ExperimentStatus,
  type ForcedVariantDto,
} from '@strata/contracts';

/** What the collector needs to know about an experiment to check an exposure. */
export interface CatalogExperiment {
  key: string;
  status: ExperimentStatus;
  variantKeys: readonly string[];
  salt: string;
  /** Hash state after `${salt}:`, for libs/bucketing's `variantDraw`. */
  prefix: HashPrefix;
  /** libs/bucketing's `cumulativeWeights` of the variants. */
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
  variants: readonly { key: string; name?: string; weight: number }[];
  forced_variants: ForcedVariantDto[] | null;
  started_at: Date | string | null;
  stopped_at: Date | string | null;
  /** A staged ship's share in ten-thousandths; absent in rows of tests built before staged ships. */
  ship_buckets?: number | null;
}

export function toCatalogExperiment(row: ExperimentRow): CatalogExperiment {
  const forced = new Map<string, { variant: string; expiresAt: number }>();
  for (const f of row.forced_variants ?? []) {
    forced.set(f.unitId, { variant: f.variant, expiresAt: f.expiresAt ? Date.parse(f.expiresAt) : Infinity });
  }
  return {
    key: row.key,
    status: row.status,
    salt: row.salt,
    prefix: hashPrefix(`${row.salt}:`),
    variantKeys: row.variants.map((v) => v.key),
    cumulative: cumulativeWeights(row.variants),
    forced,
    startedAt: row.started_at === null ? null : new Date(row.started_at).getTime(),
    stoppedAt: row.stopped_at === null ? null : new Date(row.stopped_at).getTime(),
  };
}

/**
 * The variant a unit's deterministic assignment gives at time `ts`: its forced variant while that
 * has not expired, else the hash-based one (libs/bucketing's draw onto the cumulative weights,
 * exactly as assignment computes it). Targeting and traffic are deliberately not checked: attributes may be
 * missing from the event and traffic may have ramped since.
 */
export function expectedVariant(e: CatalogExperiment, unitId: string, ts: number): { variant: string; forced: boolean } {
  const f = e.forced.get(unitId);
  if (f !== undefined && f.expiresAt > ts) return { variant: f.variant, forced: true };
  return { variant: e.variantKeys[pickVariant(e.cumulative, variantDraw(e, unitId))], forced: false };
}

/**
 * A holdout as the collector checks its exposures (`holdout:<key>`): two "variants", `holdout`
 * (u < share) and `rest`, by the holdout's salt, so `expectedVariant` applies unchanged.
 */
export interface HoldoutRow {
  key: string;
  salt: string;
  share: number;
  created_at: Date | string;
}

export function holdoutCatalogEntry(row: HoldoutRow): CatalogExperiment {
  return {
    key: HOLDOUT_EXPOSURE_PREFIX + row.key,
    status: 'running',
    salt: row.salt,
    prefix: hashPrefix(`${row.salt}:`),
    variantKeys: [HOLDOUT_ARM, REST_ARM],
    cumulative: Float64Array.of(Number(row.share), 1),
    forced: new Map(),
    startedAt: new Date(row.created_at).getTime(),
    stoppedAt: null,
  };
}

/**
 * A staged ship as the collector checks its exposures (`ship:<key>`): two "variants", `winner`
 * (ship draw below the current share) and `default`, by the salt `${salt}:ship` (the ship draw
 * hashes `${salt}:ship:${unitId}`), so `expectedVariant` applies unchanged. Checked against the
 * current share: an exposure sent after the share moved past its unit is refused as a mismatch
 * (rare, and it only thins the sample). Null when the experiment is no staged ship.
 */
export function shipCatalogEntry(row: ExperimentRow): CatalogExperiment | null {
  if (row.status !== 'shipped' || row.ship_buckets === undefined || row.ship_buckets === null || row.stopped_at === null) return null;
  const salt = `${row.salt}:ship`;
  return {
    key: SHIP_EXPOSURE_PREFIX + row.key,
    status: 'running',
    salt,
    prefix: hashPrefix(`${salt}:`),
    variantKeys: [SHIP_WINNER_ARM, SHIP_DEFAULT_ARM],
    cumulative: Float64Array.of(row.ship_buckets / BUCKETS_PER_LAYER, 1),
    forced: new Map(),
    startedAt: new Date(row.stopped_at).getTime(),
    stoppedAt: null,
  };
}

/**
 * Every experiment (any status) and holdout, as the collector checks exposures against them.
 * Ingestion must not query the database per event; this is what it reads. ConfigStateService
 * owns it: it applies each configuration read here, next to the snapshot and the key map.
 */
export class ExperimentCatalog {
  private readonly byKey = new Map<string, CatalogExperiment>();
  private holdouts = new Map<string, CatalogExperiment>();
  /** Staged ships by `ship:<key>`, derived from their experiment rows. */
  private readonly ships = new Map<string, CatalogExperiment>();

  /** An experiment, a holdout by `holdout:<key>`, or a staged ship by `ship:<key>`. */
  get(key: string): CatalogExperiment | undefined {
    return this.byKey.get(key) ?? this.holdouts.get(key) ?? this.ships.get(key);
  }

  /**
   * One read: every holdout, and the experiments of `keys` ('all': every experiment; a key
   * without a row was deleted).
   */
  apply(experiments: readonly ExperimentRow[], holdouts: readonly HoldoutRow[], keys: ReadonlySet<string> | 'all'): void {
    this.holdouts = new Map(holdouts.map((r) => [HOLDOUT_EXPOSURE_PREFIX + r.key, holdoutCatalogEntry(r)]));
    if (keys === 'all') {
      this.byKey.clear();
      this.ships.clear();
    } else {
      for (const k of keys) {
        this.byKey.delete(k);
        this.ships.delete(SHIP_EXPOSURE_PREFIX + k);
      }
    }
    for (const r of experiments) {
      this.byKey.set(r.key, toCatalogExperiment(r));
      const ship = shipCatalogEntry(r);
      if (ship !== null) this.ships.set(ship.key, ship);
    }
  }
}
