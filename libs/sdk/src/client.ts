import { evaluateExperiment, holdoutArm, holdoutsOfExperiment, shipExposures } from '@strata/bucketing';
import { EventQueue } from './event-queue';
import { errorMessage } from './http';
import { uuid } from './http';
import { ExposureCache } from './lru';
import { RemoteAssigner, type RemoteEntry } from './remote-assigner';
import { SnapshotSource } from './snapshot-source';
import {
  StrataError,
  type Assignment,
  type Attributes,
  type JsonValue,
  type Lookup,
  type StrataClientOptions,
  type StrataStats,
  type ValueType,
  type VariantValue,
  type WireEvent,
} from './types';

const NOT_READY: Lookup = Object.freeze({ status: 'not_ready' });
const UNKNOWN: Lookup = Object.freeze({ status: 'unknown' });

const DEFAULTS = {
  mode: 'local' as const,
  pollIntervalMs: 30_000,
  timeoutMs: 3_000,
  flushIntervalMs: 2_000,
  maxBatchSize: 100,
  maxQueueSize: 10_000,
  maxRetries: 8,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  remoteCacheTtlMs: 30_000,
  exposureCacheSize: 50_000,
};
/** The API takes at most this many events per request. */
const MAX_BATCH = 1000;

/**
 * A Strata client. Create one per process (server) or page (browser) with `createClient`.
 * No method throws: failures become safe defaults (`null` = show the default experience) and
 * are reported through `onError`.
 */
export class StrataClient {
  readonly mode: 'local' | 'remote';
  private readonly source: SnapshotSource | null = null;
  private readonly remote: RemoteAssigner | null = null;
  private readonly events: EventQueue;
  private readonly exposures: ExposureCache;
  private readonly listeners = new Set<() => void>();
  private readonly timeoutMs: number;
  private readonly logExposures: boolean;
  private readonly now: () => number;
  private readonly onError: ((error: StrataError) => void) | undefined;
  private readonly removeHideHandlers: () => void;
  private closed = false;

  constructor(options: StrataClientOptions) {
    const o = { ...DEFAULTS, ...definedOnly(options) };
    const base = String(o.apiUrl).replace(/\/+$/, '');
    const fetchFn = o.fetch ?? globalThis.fetch.bind(globalThis);
    const report = (error: StrataError): void => this.report(error);
    const notify = (): void => this.notify();
    this.mode = o.mode;
    this.timeoutMs = o.timeoutMs;
    this.logExposures = o.logExposures ?? true;
    this.now = o.now ?? Date.now;
    this.onError = o.onError;
    this.exposures = new ExposureCache(Math.max(1, o.exposureCacheSize));
    this.events = new EventQueue({
      url: `${base}/v1/events`,
      sdkKey: o.sdkKey,
      fetch: fetchFn,
      timeoutMs: o.timeoutMs,
      flushIntervalMs: o.flushIntervalMs,
      maxBatchSize: Math.max(1, Math.min(MAX_BATCH, o.maxBatchSize)),
      maxQueueSize: Math.max(1, o.maxQueueSize),
      maxRetries: o.maxRetries,
      retryBaseMs: o.retryBaseMs,
      retryMaxMs: o.retryMaxMs,
      report,
    });
    if (o.mode === 'remote') {
      this.remote = new RemoteAssigner({
        url: `${base}/v1/assign`,
        sdkKey: o.sdkKey,
        fetch: fetchFn,
        timeoutMs: o.timeoutMs,
        ttlMs: o.remoteCacheTtlMs,
        capacity: 10_000,
        now: Date.now,
        report,
        onChange: notify,
      });
    } else {
      this.source = new SnapshotSource({
        url: `${base}/v1/sdk/config`,
        sdkKey: o.sdkKey,
        fetch: fetchFn,
        timeoutMs: o.timeoutMs,
        pollIntervalMs: o.pollIntervalMs,
        retryBaseMs: o.retryBaseMs,
        report,
        onChange: notify,
      });
      this.source.start();
    }
    this.removeHideHandlers = this.listenForPageHide();
  }

  /**
   * Local mode: resolves true once the first snapshot is loaded, false if that did not happen
   * within `timeoutMs` (the client keeps trying in the background). Remote mode: true at once.
   * Never rejects.
   */
  ready(timeoutMs: number = this.timeoutMs): Promise<boolean> {
    return this.source === null ? Promise.resolve(!this.closed) : this.source.ready(timeoutMs);
  }

  /** True when `getVariant` can answer from memory (local mode: a snapshot is loaded). */
  isReady(): boolean {
    return this.source === null ? !this.closed : this.source.compiled !== null;
  }

  /**
   * The unit's variant key in the experiment, or null: not in the experiment, not targeted,
   * unknown experiment, or no configuration yet — show the default. Synchronous: in local mode it
   * evaluates the snapshot in-process (null before the first snapshot); in remote mode it answers
   * from the per-unit cache and, on a miss, starts loading the unit and returns null.
   * Logs one exposure per (experiment, unit) for bucketed assignments.
   * Hot path (called per render / request): must not do I/O, throw, or allocate on a repeat call
   * (evaluation shares frozen assignments; the exposure dedup hit is two Map lookups).
   */
  getVariant(experimentKey: string, unitId: string, attributes?: Attributes): string | null {
    try {
      const a = this.getAssignment(experimentKey, unitId, attributes);
      if (this.logExposures) {
        this.logHoldoutExposures(experimentKey, unitId, attributes);
        this.logShipExposure(experimentKey, unitId, attributes);
      }
      if (a === null) return null;
      if (a.reason === 'bucketed' && this.logExposures) this.logExposure(a, unitId, attributes);
      return a.variant;
    } catch (error) {
      this.report(new StrataError('internal', `getVariant: ${errorMessage(error)}`));
      return null;
    }
  }

  /**
   * Like getVariant, but waits for the configuration (local) or the API's answer (remote), at
   * most `timeoutMs`; then null. Never rejects.
   */
  async getVariantAsync(experimentKey: string, unitId: string, attributes?: Attributes): Promise<string | null> {
    try {
      let a: Assignment | null;
      if (this.remote !== null) {
        a = await withTimeout(this.remote.assign(experimentKey, unitId, attributes), this.timeoutMs, null);
      } else {
        if (!this.isReady()) await this.ready();
        a = this.getAssignment(experimentKey, unitId, attributes);
        if (this.logExposures) {
          this.logHoldoutExposures(experimentKey, unitId, attributes);
          this.logShipExposure(experimentKey, unitId, attributes);
        }
      }
      if (a === null) return null;
      if (a.reason === 'bucketed' && this.logExposures) this.logExposure(a, unitId, attributes);
      return a.variant;
    } catch (error) {
      this.report(new StrataError('internal', `getVariantAsync: ${errorMessage(error)}`));
      return null;
    }
  }

  /**
   * The full assignment (variant, layer, reason) without logging an exposure — for callers that
   * decide themselves when the unit is exposed (e.g. React: exposure in an effect, not in render).
   */
  getAssignment(experimentKey: string, unitId: string, attributes?: Attributes): Assignment | null {
    if (this.source !== null) {
      const compiled = this.source.compiled;
      return compiled === null ? null : evaluateExperiment(compiled, experimentKey, unitId, attributes);
    }
    const remote = this.remote as RemoteAssigner;
    const hit = remote.cached(experimentKey, unitId, attributes);
    if (hit !== undefined) return hit;
    void remote.assign(experimentKey, unitId, attributes);
    return null;
  }

  /**
   * Everything known about one experiment for one unit, without logging an exposure: whether the
   * client is ready, the experiment exists, the unit is in it, and which value it gets. Local mode
   * answers from the snapshot; remote mode from the unit's cached reply (a miss starts loading it
   * and answers `not_ready`).
   */
  lookup(experimentKey: string, unitId: string, attributes?: Attributes): Lookup {
    if (this.source !== null) {
      const compiled = this.source.compiled;
      if (compiled === null) return NOT_READY;
      const exp = compiled.byKey.get(experimentKey);
      if (exp === undefined) return UNKNOWN;
      const assignment = evaluateExperiment(compiled, experimentKey, unitId, attributes);
      if (assignment !== null) return { status: 'assigned', assignment, valueType: exp.valueType, value: assignment.value };
      const disabled = exp.status === 'shipped' ? exp.shipped === null : exp.layer === null || exp.variantKeys.length === 0;
      return disabled
        ? { status: 'default', valueType: exp.valueType, value: exp.defaultValue, disabled: true }
        : { status: 'default', valueType: exp.valueType, value: exp.defaultValue };
    }
    const remote = this.remote as RemoteAssigner;
    const entry = remote.cachedEntry(unitId, attributes);
    if (entry === undefined) {
      void remote.entry(unitId, attributes);
      return NOT_READY;
    }
    return remoteLookup(entry, experimentKey);
  }

  /** Like lookup, but waits for the snapshot (local) or the unit's reply (remote) at most `timeoutMs`. Never rejects. */
  async lookupAsync(experimentKey: string, unitId: string, attributes?: Attributes): Promise<Lookup> {
    try {
      if (this.remote !== null) {
        const entry = await withTimeout(this.remote.entry(unitId, attributes), this.timeoutMs, null);
        return entry === null ? NOT_READY : remoteLookup(entry, experimentKey);
      }
      if (!this.isReady()) await this.ready();
      return this.lookup(experimentKey, unitId, attributes);
    } catch (error) {
      this.report(new StrataError('internal', `lookupAsync: ${errorMessage(error)}`));
      return NOT_READY;
    }
  }

  /**
   * The unit's value in the experiment: its variant's value, the experiment's default value when
   * the unit is not in it, or `fallback` (unknown experiment, no values, not ready). Logs the
   * exposure like getVariant. Synchronous, with getVariant's local/remote semantics.
   */
  getValue<T extends VariantValue>(experimentKey: string, unitId: string, fallback: T, attributes?: Attributes): VariantValue {
    return this.typedValue(experimentKey, unitId, fallback, attributes, null);
  }

  /** getValue for a boolean experiment: a value of another type gives `fallback` (reported as `type_mismatch`). */
  getBooleanValue(experimentKey: string, unitId: string, fallback: boolean, attributes?: Attributes): boolean {
    return this.typedValue(experimentKey, unitId, fallback, attributes, 'boolean');
  }

  getStringValue(experimentKey: string, unitId: string, fallback: string, attributes?: Attributes): string {
    return this.typedValue(experimentKey, unitId, fallback, attributes, 'string');
  }

  getNumberValue(experimentKey: string, unitId: string, fallback: number, attributes?: Attributes): number {
    return this.typedValue(experimentKey, unitId, fallback, attributes, 'number');
  }

  getJsonValue<T extends JsonValue = JsonValue>(experimentKey: string, unitId: string, fallback: T, attributes?: Attributes): T {
    return this.typedValue(experimentKey, unitId, fallback, attributes, 'json');
  }

  /** Like getValue, but waits for the configuration (local) or the API (remote), at most `timeoutMs`. Never rejects. */
  async getValueAsync<T extends VariantValue>(experimentKey: string, unitId: string, fallback: T, attributes?: Attributes): Promise<VariantValue> {
    const found = await this.lookupAsync(experimentKey, unitId, attributes);
    return this.resolveValue(found, experimentKey, unitId, fallback, attributes, null);
  }

  private typedValue<T extends VariantValue>(experimentKey: string, unitId: string, fallback: T, attributes: Attributes | undefined, type: ValueType | null): T {
    try {
      return this.resolveValue(this.lookup(experimentKey, unitId, attributes), experimentKey, unitId, fallback, attributes, type);
    } catch (error) {
      this.report(new StrataError('internal', `getValue: ${errorMessage(error)}`));
      return fallback;
    }
  }

  private resolveValue<T extends VariantValue>(found: Lookup, experimentKey: string, unitId: string, fallback: T, attributes: Attributes | undefined, type: ValueType | null): T {
    if (found.status !== 'assigned' && found.status !== 'default') return fallback;
    if (this.logExposures) {
      this.logHoldoutExposures(experimentKey, unitId, attributes);
      this.logShipExposure(experimentKey, unitId, attributes);
    }
    if (found.value === undefined) return fallback;
    if (type !== null && !hasType(found.value, type)) {
      this.report(new StrataError('type_mismatch', `"${experimentKey}" has ${describeType(found.value)} values, not ${type}`));
      return fallback;
    }
    if (found.status === 'assigned' && found.assignment.reason === 'bucketed' && this.logExposures) this.logExposure(found.assignment, unitId, attributes);
    return found.value as T;
  }

  /**
   * Queues an exposure for a bucketed assignment unless this (experiment, unit) was already
   * exposed to this variant by this client. Hot path on a hit: two Map lookups, no allocation.
   */
  logExposure(assignment: Assignment, unitId: string, attributes?: Attributes): void {
    if (assignment.reason !== 'bucketed') return;
    if (!this.exposures.add(assignment.experiment, unitId, assignment.variant)) return;
    const event: WireEvent = {
      id: uuid(),
      type: 'exposure',
      unitId,
      experiment: assignment.experiment,
      variant: assignment.variant,
      timestamp: new Date(this.now()).toISOString(),
    };
    if (attributes !== undefined) event.attributes = attributes;
    this.events.enqueue(event);
  }

  /**
   * Queues the unit's exposure to every holdout covering the experiment's layer, in whichever arm
   * it is (`holdout:<key>`, variant `holdout` or `rest`), once per (holdout, unit): both arms are
   * recorded alike, so the holdout comparison sees every unit evaluated in its layers. Local mode
   * only (remote mode: /v1/assign with logExposures records them). No holdouts: one length check.
   * getVariant, getValue and the OpenFeature providers' hook call it; call it yourself only with
   * getAssignment/lookup when you log exposures by hand.
   */
  logHoldoutExposures(experimentKey: string, unitId: string, attributes?: Attributes): void {
    const compiled = this.source?.compiled ?? null;
    if (compiled === null || compiled.holdouts.length === 0) return;
    const holdouts = holdoutsOfExperiment(compiled.byKey.get(experimentKey));
    for (let i = 0; i < holdouts.length; i++) {
      const h = holdouts[i];
      const arm = holdoutArm(h, unitId);
      if (!this.exposures.add(h.exposureKey, unitId, arm)) continue;
      const event: WireEvent = { id: uuid(), type: 'exposure', unitId, experiment: h.exposureKey, variant: arm, timestamp: new Date(this.now()).toISOString() };
      if (attributes !== undefined) event.attributes = attributes;
      this.events.enqueue(event);
    }
  }

  /**
   * Queues the unit's exposure to a staged ship's comparison (`ship:<key>`, variant `winner` or
   * `default`) once per unit, when the experiment is shipped to a share below 100 % and the unit
   * is a candidate (in targeting, not held out, not forced): both arms alike, so the winner can be
   * compared with the default on the guardrails while the ship is staged. Local mode only (remote
   * mode: /v1/assign with logExposures records them). No staged ship: one length check.
   */
  logShipExposure(experimentKey: string, unitId: string, attributes?: Attributes): void {
    const compiled = this.source?.compiled ?? null;
    if (compiled === null || compiled.stagedShips.length === 0) return;
    for (const x of shipExposures(compiled, unitId, attributes ?? {}, [experimentKey])) {
      if (!this.exposures.add(x.exposureKey, unitId, x.arm)) continue;
      const event: WireEvent = { id: uuid(), type: 'exposure', unitId, experiment: x.exposureKey, variant: x.arm, timestamp: new Date(this.now()).toISOString() };
      if (attributes !== undefined) event.attributes = attributes;
      this.events.enqueue(event);
    }
  }

  /** Records a metric event (a conversion, a purchase amount…) for the unit. */
  track(unitId: string, eventName: string, value?: number, properties?: Attributes): void {
    try {
      const event: WireEvent = { id: uuid(), type: 'metric', unitId, name: eventName, timestamp: new Date(this.now()).toISOString() };
      if (value !== undefined && value !== null) event.value = value;
      if (properties !== undefined) event.attributes = properties;
      this.events.enqueue(event);
    } catch (error) {
      this.report(new StrataError('internal', `track: ${errorMessage(error)}`));
    }
  }

  /** Sends queued events now; resolves when sent or given up, or after `timeoutMs` if given. Never rejects. */
  flush(timeoutMs?: number): Promise<void> {
    return this.events
      .flush(timeoutMs)
      .catch((error: unknown) => this.report(new StrataError('internal', `flush: ${errorMessage(error)}`)));
  }

  /** Stops polling, flushes (at most `timeoutMs`, default 5 000) and releases timers and listeners. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.source?.stop();
    this.removeHideHandlers();
    try {
      await this.events.close(timeoutMs);
    } catch (error) {
      this.report(new StrataError('internal', `close: ${errorMessage(error)}`));
    }
    this.listeners.clear();
  }

  stats(): StrataStats {
    return this.events.stats();
  }

  /** Called whenever assignments may have changed (new snapshot, remote answer). Returns an unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (error) {
        this.report(new StrataError('internal', `listener: ${errorMessage(error)}`));
      }
    }
  }

  private report(error: StrataError): void {
    if (this.onError === undefined) return;
    try {
      this.onError(error);
    } catch {
      // An application's error handler must not break the SDK either.
    }
  }

  /**
   * Browsers: when the page is hidden (tab switch, navigation, close), send the queue with
   * `fetch(..., { keepalive: true })`, which outlives the page like sendBeacon but — unlike
   * sendBeacon — can carry the Authorization header the API requires.
   */
  private listenForPageHide(): () => void {
    const g = globalThis as {
      document?: {
        visibilityState?: string;
        addEventListener?: EventTarget['addEventListener'];
        removeEventListener?: EventTarget['removeEventListener'];
      };
      addEventListener?: EventTarget['addEventListener'];
      removeEventListener?: EventTarget['removeEventListener'];
    };
    const doc = g.document;
    if (doc === undefined || typeof doc.addEventListener !== 'function' || typeof g.addEventListener !== 'function') return () => undefined;
    const onVisibility = (): void => {
      if (doc.visibilityState === 'hidden') this.events.flushOnHide();
    };
    const onPageHide = (): void => this.events.flushOnHide();
    doc.addEventListener('visibilitychange', onVisibility);
    g.addEventListener('pagehide', onPageHide);
    return () => {
      doc.removeEventListener?.('visibilitychange', onVisibility);
      g.removeEventListener?.('pagehide', onPageHide);
    };
  }
}

/** Creates a client and starts loading configuration (local mode). See StrataClientOptions. */
export function createClient(options: StrataClientOptions): StrataClient {
  return new StrataClient(options);
}

/** The type a value is of, as experiments declare it. */
export function valueTypeOf(value: VariantValue): ValueType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  return 'json';
}

/** `json` takes any JSON value (a string is valid JSON); the others their own primitive. */
function hasType(value: VariantValue, type: ValueType): boolean {
  return type === 'json' || valueTypeOf(value) === type;
}

function describeType(value: VariantValue): string {
  return valueTypeOf(value);
}

/** A remote reply carries no value types: they are read off the values themselves. */
function remoteLookup(entry: RemoteEntry, experimentKey: string): Lookup {
  const assignment = entry.byExperiment.get(experimentKey);
  if (assignment !== undefined) {
    const value = assignment.value;
    return { status: 'assigned', assignment, valueType: value === undefined ? null : valueTypeOf(value), value };
  }
  const value = entry.defaults.get(experimentKey);
  return value === undefined ? UNKNOWN : { status: 'default', valueType: valueTypeOf(value), value };
}

function definedOnly<T extends object>(o: T): T {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
}

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
