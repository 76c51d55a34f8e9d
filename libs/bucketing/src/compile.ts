import type { Assignment, ConfigSnapshot, SnapshotExperiment, SnapshotHoldout, TargetingRule, ValueType, VariantValue } from '@strata/contracts';
import { hashPrefix, type HashPrefix } from './murmur3';
import type { RegexCompiler } from './regex';
import { compileTargeting, type Predicate } from './targeting';

/**
 * Buckets per layer. Same value as `BUCKETS_PER_LAYER` in @strata/contracts, repeated here
 * because importing a value from contracts would pull zod into the SDK bundle; a spec test
 * checks that the two agree.
 */
export const BUCKETS = 10_000;

/** Marks a bucket no running experiment holds in a layer's table. */
export const FREE_BUCKET = -1;

export interface ForcedEntry {
  /** Shared, frozen; returned as is by evaluation. */
  readonly assignment: Assignment;
  /** Epoch milliseconds; `Infinity` when it never expires. */
  readonly expiresAt: number;
  /** The ISO string from the snapshot, for `explain`. */
  readonly expiresAtIso: string | null;
}

/** A holdout: units with MurmurHash3(`${salt}:${unitId}`) / 2^32 < share get nothing in its layers. */
export interface CompiledHoldout {
  readonly key: string;
  readonly salt: string;
  /** Hash state after `${salt}:`. */
  readonly prefix: HashPrefix;
  readonly share: number;
  /** null = every layer. */
  readonly layers: readonly string[] | null;
  /** `holdout:<key>`: the experiment key its exposures carry. */
  readonly exposureKey: string;
  /** Its index in `CompiledSnapshot.holdouts`. */
  readonly index: number;
}

export interface CompiledLayer {
  readonly key: string;
  readonly salt: string;
  /** Hash state after `${salt}:`. */
  readonly prefix: HashPrefix;
  /** bucket → index into `running`, or FREE_BUCKET. */
  readonly table: Int16Array;
  /** Running experiments of the layer, in snapshot order; their `slot` indexes this array. */
  readonly running: readonly CompiledExperiment[];
  /** Every experiment of the layer, in snapshot order. */
  readonly experiments: readonly CompiledExperiment[];
  /** True when no experiment of the layer is shipped or has forced variants: evaluation can go bucket-first. */
  readonly simple: boolean;
  /**
   * Units forced into a running experiment of this layer → those claims. A forced unit takes
   * its layer slot: it gets no bucketed assignment from another running experiment of the layer,
   * so layer exclusivity holds for forced units too. Null when the layer has no forced variants.
   */
  readonly forcedUnits: ReadonlyMap<string, readonly { slot: number; expiresAt: number }[]> | null;
  /** Holdouts covering this layer (their units get no assignment here, not even a shipped one); null when none. */
  readonly holdouts: readonly CompiledHoldout[] | null;
}

export interface CompiledExperiment {
  readonly key: string;
  readonly layerKey: string;
  readonly status: 'running' | 'shipped';
  readonly salt: string;
  /** Hash state after `${salt}:`. */
  readonly prefix: HashPrefix;
  readonly variantKeys: readonly string[];
  /** cumulative[i] = w0 + … + wi, summed left to right in doubles. */
  readonly cumulative: Float64Array;
  /** Frozen `bucketed` assignment per variant, shared across calls (no allocation per unit). */
  readonly bucketed: readonly Assignment[];
  /** Frozen `shipped` assignment, or null when not shipped or without a shipped variant. */
  readonly shipped: Assignment | null;
  /** A staged ship's share in [0, 1]: units with ship draw < shipShare get `shipped`; 1 when not staged. */
  readonly shipShare: number;
  /** Hash state after `${salt}:ship:` for a staged ship (shipShare < 1); null otherwise (no ship hash at all). */
  readonly shipPrefix: HashPrefix | null;
  /** `ship:<key>`: the experiment key a staged ship's exposures carry (SHIP_EXPOSURE_PREFIX in @strata/contracts). */
  readonly shipExposureKey: string;
  readonly forced: ReadonlyMap<string, ForcedEntry> | null;
  readonly targeting: Predicate;
  readonly rule: TargetingRule | null;
  /** Null when the snapshot has no layer with this experiment's key. */
  readonly layer: CompiledLayer | null;
  /** Index into `layer.running`; -1 for a shipped experiment or a missing layer. */
  readonly slot: number;
  /** The type of the variants' values, or null when they carry none. */
  readonly valueType: ValueType | null;
  /** What a unit not in the experiment gets; undefined without a valueType. */
  readonly defaultValue: VariantValue | undefined;
}

/** A snapshot prepared for evaluation: build once per snapshot version, evaluate many times. */
export interface CompiledSnapshot {
  readonly version: string;
  readonly layers: readonly CompiledLayer[];
  readonly experiments: readonly CompiledExperiment[];
  readonly byKey: ReadonlyMap<string, CompiledExperiment>;
  /** Experiments whose layer is not in the snapshot (only their shipped variant can apply). */
  readonly orphans: readonly CompiledExperiment[];
  /** Experiments with a valueType, in snapshot order (their defaults go into assignment replies). */
  readonly valued: readonly CompiledExperiment[];
  /** Every holdout of the snapshot, in snapshot order. */
  readonly holdouts: readonly CompiledHoldout[];
  /** Staged ships (shipShare < 1, with a shipped variant), in snapshot order: their exposures are logged. */
  readonly stagedShips: readonly CompiledExperiment[];
  /**
   * Scratch for `evaluate`: per holdout, whether the unit being evaluated is held out (1), not
   * (0) or not hashed yet (-1), so a holdout covering many layers is hashed once per call.
   * Evaluation is synchronous and single-threaded, so one buffer per snapshot is safe.
   */
  readonly holdoutMemo: Int8Array;
  /** Current time in epoch ms, read only when a forced variant with an expiry matches. */
  readonly clock: () => number;
  /** The engine `regex` conditions were compiled with (null: they are false), reused by `explain`. */
  readonly regex: RegexCompiler | null;
}

export interface CompileOptions {
  /**
   * Compiles `regex` conditions: `compileRe2` (the API and the SDK both use it). Without one,
   * every `regex` condition is false; it is a parameter so that the SDK can load the engine only
   * for snapshots that need it.
   */
  regex?: RegexCompiler | null;
}

interface MutableLayer {
  key: string;
  salt: string;
  prefix: HashPrefix;
  table: Int16Array;
  running: CompiledExperiment[];
  experiments: CompiledExperiment[];
  simple: boolean;
  forcedUnits: Map<string, { slot: number; expiresAt: number }[]> | null;
  holdouts: CompiledHoldout[] | null;
}

/** cumulative[i] = w0 + … + wi, summed left to right in doubles (what `pickVariant` compares the draw against). */
export function cumulativeWeights(variants: readonly { readonly weight: number }[]): Float64Array {
  const cumulative = new Float64Array(variants.length);
  let sum = 0;
  variants.forEach((v, i) => {
    sum += v.weight;
    cumulative[i] = sum;
  });
  return cumulative;
}

function parseExpiry(iso: string | null): number {
  if (iso === null) return Infinity;
  const t = Date.parse(iso);
  // An unparseable expiry is treated as already expired: a forced variant must not outlive intent.
  return Number.isNaN(t) ? -Infinity : t;
}

function compileExperiment(
  e: SnapshotExperiment,
  layer: MutableLayer | null,
  slot: number,
  nowMs: number,
  regex: RegexCompiler | null,
): CompiledExperiment {
  const variantKeys = e.variants.map((v) => v.key);
  const cumulative = cumulativeWeights(e.variants);
  const base = { experiment: e.key, layer: e.layer };
  const valueType = e.valueType ?? null;
  const values = new Map<string, VariantValue | undefined>(e.variants.map((v) => [v.key, v.value === undefined ? undefined : frozenCopy(v.value)]));
  // The value is part of the frozen assignment (so of its cached JSON): no work per unit. Deep-frozen
  // too, so an application that mutates a JSON value it was given cannot change what others get.
  const make = (variant: string, reason: Assignment['reason']): Assignment => {
    const a: Assignment = { ...base, variant, reason };
    if (valueType !== null) {
      const v = values.get(variant);
      if (v !== undefined) a.value = v;
    }
    return Object.freeze(a);
  };
  const bucketed = variantKeys.map((variant) => make(variant, 'bucketed'));
  let forced: Map<string, ForcedEntry> | null = null;
  for (const f of e.forcedVariants) {
    const expiresAt = parseExpiry(f.expiresAt);
    if (expiresAt <= nowMs) continue;
    forced ??= new Map();
    forced.set(f.unitId, {
      assignment: make(f.variant, 'forced'),
      expiresAt,
      expiresAtIso: f.expiresAt,
    });
  }
  const shipped =
    e.status === 'shipped' && e.shippedVariant !== null ? make(e.shippedVariant, 'shipped') : null;
  const shipShare = compileShipShare(e);
  return {
    key: e.key,
    layerKey: e.layer,
    status: e.status,
    salt: e.salt,
    prefix: hashPrefix(`${e.salt}:`),
    variantKeys,
    cumulative,
    bucketed,
    shipped,
    shipShare,
    shipPrefix: shipShare < 1 ? hashPrefix(`${e.salt}${SHIP_SALT_SUFFIX}`) : null,
    shipExposureKey: `ship:${e.key}`,
    forced,
    targeting: compileTargeting(e.targeting, regex),
    rule: e.targeting,
    layer: layer as CompiledLayer | null,
    slot,
    valueType,
    defaultValue: valueType !== null && e.defaultValue !== undefined && e.defaultValue !== null ? frozenCopy(e.defaultValue) : undefined,
  };
}

/** The ship draw hashes `${salt}:ship:${unitId}`: independent of the variant draw (`${salt}:${unitId}`). */
const SHIP_SALT_SUFFIX = ':ship:';

/** A shipped experiment's share: absent or invalid = 1 (everyone, a full ship); clipped to [0, 1]. */
function compileShipShare(e: SnapshotExperiment): number {
  if (e.status !== 'shipped' || e.shipShare === undefined || !Number.isFinite(e.shipShare)) return 1;
  return Math.min(1, Math.max(0, e.shipShare));
}

/** A deep-frozen copy (the snapshot passed in is left as it was). */
function frozenCopy(value: VariantValue): VariantValue {
  return typeof value === 'object' && value !== null ? deepFreeze(JSON.parse(JSON.stringify(value)) as VariantValue) : value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Compiles a snapshot: per layer a bucket → experiment table, per experiment cumulative weights,
 * compiled targeting and forced-variant maps, frozen assignment objects.
 *
 * `now` pins the clock for forced-variant expiry (tests, replays). Omit it in long-lived
 * processes: forced variants already expired are dropped here, and those that expire later are
 * checked against `Date.now()` when they match.
 *
 * Invalid input is tolerated, never thrown on: ranges are clipped to [0, BUCKETS); where two
 * running experiments claim a bucket, the earlier one in the snapshot keeps it.
 */
export function compileSnapshot(snapshot: ConfigSnapshot, now?: Date, options: CompileOptions = {}): CompiledSnapshot {
  const regex = options.regex ?? null;
  const pinned = now?.getTime();
  const clock = pinned === undefined ? Date.now : () => pinned;
  const nowMs = clock();

  const layers = new Map<string, MutableLayer>();
  for (const l of snapshot.layers) {
    if (layers.has(l.key)) continue;
    layers.set(l.key, {
      key: l.key,
      salt: l.salt,
      prefix: hashPrefix(`${l.salt}:`),
      table: new Int16Array(BUCKETS).fill(FREE_BUCKET),
      running: [],
      experiments: [],
      simple: true,
      forcedUnits: null,
      holdouts: null,
    });
  }

  const holdouts = compileHoldouts(snapshot.holdouts ?? []);
  for (const h of holdouts) {
    for (const layer of layers.values()) {
      if (h.layers === null || h.layers.includes(layer.key)) (layer.holdouts ??= []).push(h);
    }
  }

  const experiments: CompiledExperiment[] = [];
  const byKey = new Map<string, CompiledExperiment>();
  const orphans: CompiledExperiment[] = [];
  const valued: CompiledExperiment[] = [];
  for (const e of snapshot.experiments) {
    if (byKey.has(e.key)) continue;
    const layer = layers.get(e.layer) ?? null;
    const slot = layer !== null && e.status === 'running' ? layer.running.length : -1;
    const c = compileExperiment(e, layer, slot, nowMs, regex);
    experiments.push(c);
    byKey.set(c.key, c);
    if (c.defaultValue !== undefined) valued.push(c);
    if (layer === null) {
      orphans.push(c);
      continue;
    }
    layer.experiments.push(c);
    if (c.status === 'shipped' || c.forced !== null) layer.simple = false;
    if (slot < 0) continue;
    layer.running.push(c);
    // The table is an Int16Array: a (never realistic) 32,768th running experiment holds nothing.
    for (const r of slot <= 0x7fff ? e.ranges : []) {
      const start = Math.max(0, Math.ceil(r.start));
      const end = Math.min(BUCKETS, Math.floor(r.end));
      for (let b = start; b < end; b++) if (layer.table[b] === FREE_BUCKET) layer.table[b] = slot;
    }
    if (c.forced !== null) {
      layer.forcedUnits ??= new Map();
      for (const [unitId, f] of c.forced) {
        const claims = layer.forcedUnits.get(unitId);
        if (claims) claims.push({ slot, expiresAt: f.expiresAt });
        else layer.forcedUnits.set(unitId, [{ slot, expiresAt: f.expiresAt }]);
      }
    }
  }

  return {
    version: snapshot.version,
    layers: [...layers.values()],
    experiments,
    byKey,
    orphans,
    valued,
    holdouts,
    stagedShips: experiments.filter((x) => x.shipPrefix !== null && x.shipped !== null),
    holdoutMemo: new Int8Array(holdouts.length),
    clock,
    regex,
  };
}

const HOLDOUT_PREFIX = 'holdout:';

/** First of each key wins; a share outside [0, 1] is clipped (tolerated, never thrown on). */
function compileHoldouts(list: readonly SnapshotHoldout[]): CompiledHoldout[] {
  const seen = new Set<string>();
  const out: CompiledHoldout[] = [];
  for (const h of list) {
    if (seen.has(h.key)) continue;
    seen.add(h.key);
    const share = Number.isFinite(h.share) ? Math.min(1, Math.max(0, h.share)) : 0;
    out.push(
      Object.freeze({ key: h.key, salt: h.salt, prefix: hashPrefix(`${h.salt}:`), share, layers: h.layers === null ? null : [...h.layers], exposureKey: HOLDOUT_PREFIX + h.key, index: out.length }),
    );
  }
  return out;
}
