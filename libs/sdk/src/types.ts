/**
 * Public types of @strata/sdk. They are declared here (structurally identical to the ones in
 * @strata/contracts) so the published declarations stand alone and the bundle never pulls zod.
 */

export type AttributeValue = string | number | boolean | null;
/** Unit attributes used by targeting rules, e.g. `{ country: 'DE', plan: 'pro' }`. */
export type Attributes = Record<string, AttributeValue | AttributeValue[]>;

/** The type of an experiment's variant values (one per experiment). */
export type ValueType = 'boolean' | 'string' | 'number' | 'json';
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A variant's value (JSON values are deep-frozen: treat them as read-only). */
export type VariantValue = JsonValue;

/** One assignment, as returned by the API and by local evaluation. */
export interface Assignment {
  experiment: string;
  variant: string;
  layer: string;
  /** Exposures are logged only for `bucketed` assignments. */
  reason: 'forced' | 'bucketed' | 'shipped';
  /** The variant's value, when the experiment's variants carry values. */
  value?: VariantValue;
}

/**
 * What the client knows about one experiment for one unit (no exposure logged), for integrations
 * such as the OpenFeature providers:
 * - `not_ready`: no configuration yet (local), or the unit's answer is still loading (remote);
 * - `unknown`: not in the configuration (unknown key, draft or stopped). In remote mode also an
 *   experiment without values that gave the unit no assignment: the reply cannot tell those apart;
 * - `assigned`: the unit has a variant (`value` is its value, if the experiment has values);
 * - `default`: the experiment exists but the unit is not in it (`value`: its default value, if any);
 *   `disabled` when the experiment, as configured, assigns nobody (shipped without a winner, its
 *   layer or its variants missing).
 */
export type Lookup =
  | { status: 'not_ready' }
  | { status: 'unknown' }
  | { status: 'assigned'; assignment: Assignment; valueType: ValueType | null; value: VariantValue | undefined }
  | { status: 'default'; valueType: ValueType | null; value: VariantValue | undefined; disabled?: true };

export type StrataErrorKind =
  /** The request could not be sent or no answer came (DNS, refused, reset, timeout). */
  | 'network'
  /** The API answered with an unexpected status (see `status`). */
  | 'http'
  /** The API accepted a batch but rejected some of its events (see `details`). */
  | 'rejected'
  /** A batch was given up after the last retry, or the queue overflowed. */
  | 'delivery'
  /** The configuration snapshot could not be read or compiled. */
  | 'config'
  /** A typed getter met a value of another type; the app got its fallback. */
  | 'type_mismatch'
  /** A bug or bad input caught at the SDK's boundary; the app got a safe default instead. */
  | 'internal';

/** Everything the SDK reports through `onError`; the SDK itself never throws into the app. */
export class StrataError extends Error {
  override readonly name = 'StrataError';
  constructor(
    readonly kind: StrataErrorKind,
    message: string,
    readonly status?: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface StrataClientOptions {
  /** Base URL of the Strata API, e.g. `https://strata.example.com`. */
  apiUrl: string;
  /** An SDK key (`sdk-server` or `sdk-client`), sent as `Authorization: Bearer <key>`. */
  sdkKey: string;
  /**
   * `local` (default): download the configuration snapshot and assign in-process (no request per
   * assignment). `remote`: ask `POST /v1/assign` and cache each unit's answer for `remoteCacheTtlMs`.
   */
  mode?: 'local' | 'remote';
  /** Local mode: how often the snapshot is re-checked (ETag, so unchanged = 304). Default 30 000. */
  pollIntervalMs?: number;
  /** Per-request timeout, and how long `ready()`/`getVariantAsync` wait at most. Default 3 000. */
  timeoutMs?: number;
  /** Events are sent at least this often while any are queued. Default 2 000. */
  flushIntervalMs?: number;
  /** Events per request (the API takes ≤ 1 000). A full batch is sent at once. Default 100. */
  maxBatchSize?: number;
  /** Events kept while the API is unreachable; beyond that the oldest are dropped and counted. Default 10 000. */
  maxQueueSize?: number;
  /** Retries of one batch before it is given up (counted in `failures`). Default 8. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter, capped by `retryMaxMs`. Default 500. */
  retryBaseMs?: number;
  /** Largest backoff delay (also caps `Retry-After`). Default 30 000. */
  retryMaxMs?: number;
  /** Remote mode: how long a unit's assignments are reused. Default 30 000. */
  remoteCacheTtlMs?: number;
  /** (experiment, unit) pairs remembered to log each exposure once. Default 50 000. */
  exposureCacheSize?: number;
  /** Set false to never log exposures from getVariant (e.g. when the server logs them). Default true. */
  logExposures?: boolean;
  /** Receives every error; the SDK never throws into the app. */
  onError?: (error: StrataError) => void;
  /** Clock for event timestamps (epoch ms). Default `Date.now`; the traffic simulator replays time with it. */
  now?: () => number;
  /** fetch implementation. Default the global `fetch` (Node ≥ 18, browsers). */
  fetch?: typeof fetch;
}

/** Delivery counters since the client was created (events, not requests). */
export interface StrataStats {
  /** Waiting to be sent, including a batch in flight. */
  queued: number;
  /** Stored by the API (accepted or recognised as duplicates). */
  sent: number;
  /** Dropped because the queue was full (oldest first). */
  dropped: number;
  /** Batch re-sends after a network error, 429 or 5xx. */
  retries: number;
  /** Given up after the last retry, refused (4xx) or rejected individually by the API. */
  failures: number;
}

/** One event on the wire (`POST /v1/events`). */
export interface WireEvent {
  id: string;
  type: 'exposure' | 'metric';
  unitId: string;
  experiment?: string;
  variant?: string;
  name?: string;
  value?: number;
  timestamp: string;
  attributes?: Attributes;
}
