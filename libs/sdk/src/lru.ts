/**
 * Remembers which (experiment, unit) pairs were already exposed, bounded to `capacity` entries.
 * Hot path (every getVariant with exposure logging): a hit is one Map lookup and no write.
 * Recency is refreshed only for entries older than half the capacity, which keeps it an LRU
 * in effect without a delete + re-insert per hit.
 */
export class ExposureCache {
  private readonly entries = new Map<string, { variant: string; seq: number }>();
  private seq = 0;

  constructor(private readonly capacity: number) {}

  /** True when this pair was not seen with this variant: the caller logs an exposure. */
  add(key: string, variant: string): boolean {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.variant === variant) {
      if (this.seq - hit.seq > this.capacity >> 1) {
        this.entries.delete(key);
        hit.seq = ++this.seq;
        this.entries.set(key, hit);
      }
      return false;
    }
    if (hit !== undefined) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) {
      // Map iteration order is insertion order: the first key is the least recently used.
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { variant, seq: ++this.seq });
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}
