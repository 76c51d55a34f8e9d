import { errorMessage, request } from './http';
import { StrataError, type Assignment, type Attributes, type VariantValue } from './types';

export interface RemoteAssignerOptions {
  url: string;
  sdkKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
  ttlMs: number;
  capacity: number;
  now: () => number;
  report: (error: StrataError) => void;
  onChange: () => void;
}

export interface RemoteEntry {
  byExperiment: Map<string, Assignment>;
  /** Experiments with values the unit is not in → their default value. */
  defaults: Map<string, VariantValue>;
  expiresAt: number;
}
type Entry = RemoteEntry;

/**
 * Remote mode: one `POST /v1/assign` per unit (all of its assignments), cached for `ttlMs` in a
 * bounded map. Concurrent asks for the same unit share one request. A failure answers "no
 * assignment" (the app shows its default) and is not cached, so the next ask tries again.
 */
export class RemoteAssigner {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry | null>>();

  constructor(private readonly o: RemoteAssignerOptions) {}

  /** The cached assignment, or undefined when the unit is not cached (or expired). */
  cached(experimentKey: string, unitId: string, attributes: Attributes | undefined): Assignment | null | undefined {
    const entry = this.cache.get(cacheKey(unitId, attributes));
    if (entry === undefined || entry.expiresAt <= this.o.now()) return undefined;
    return entry.byExperiment.get(experimentKey) ?? null;
  }

  /** The unit's cached reply, or undefined when it is not cached (or expired). */
  cachedEntry(unitId: string, attributes: Attributes | undefined): RemoteEntry | undefined {
    const entry = this.cache.get(cacheKey(unitId, attributes));
    return entry === undefined || entry.expiresAt <= this.o.now() ? undefined : entry;
  }

  /** The unit's reply, cached or loaded (null when the request failed). */
  async entry(unitId: string, attributes: Attributes | undefined): Promise<RemoteEntry | null> {
    return this.cachedEntry(unitId, attributes) ?? this.load(unitId, attributes);
  }

  async assign(experimentKey: string, unitId: string, attributes: Attributes | undefined): Promise<Assignment | null> {
    const hit = this.cached(experimentKey, unitId, attributes);
    if (hit !== undefined) return hit;
    const entry = await this.load(unitId, attributes);
    return entry?.byExperiment.get(experimentKey) ?? null;
  }

  private load(unitId: string, attributes: Attributes | undefined): Promise<Entry | null> {
    const key = cacheKey(unitId, attributes);
    let p = this.pending.get(key);
    if (p === undefined) {
      p = this.fetchEntry(key, unitId, attributes).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async fetchEntry(key: string, unitId: string, attributes: Attributes | undefined): Promise<Entry | null> {
    try {
      const res = await request(
        this.o.fetch,
        this.o.url,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${this.o.sdkKey}`, 'content-type': 'application/json' },
          // The SDK logs exposures itself (deduplicated), so the server must not log them too.
          body: JSON.stringify({ unitId, attributes: attributes ?? {}, logExposures: false }),
        },
        this.o.timeoutMs,
      );
      const reply = res.body as { assignments?: Assignment[]; defaults?: Record<string, VariantValue> } | undefined;
      const assignments = reply?.assignments;
      if (res.status !== 200 || !Array.isArray(assignments))
        throw new StrataError('http', `POST ${this.o.url}: HTTP ${res.status}`, res.status, res.body);
      const defaults = reply?.defaults !== null && typeof reply?.defaults === 'object' ? Object.entries(reply.defaults) : [];
      const entry: Entry = {
        byExperiment: new Map(assignments.map((a) => [a.experiment, a])),
        defaults: new Map(defaults),
        expiresAt: this.o.now() + this.o.ttlMs,
      };
      if (this.cache.size >= this.o.capacity) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.delete(key);
      this.cache.set(key, entry);
      this.o.onChange();
      return entry;
    } catch (error) {
      this.o.report(error instanceof StrataError ? error : new StrataError('network', errorMessage(error)));
      return null;
    }
  }
}

function cacheKey(unitId: string, attributes: Attributes | undefined): string {
  return attributes === undefined ? unitId : `${unitId}\u0000${JSON.stringify(attributes)}`;
}
