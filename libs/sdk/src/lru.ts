interface Entry {
  variant: string;
  seq: number;
}

/**
 * Remembers which (experiment, unit) pairs were already exposed, bounded to `capacity` pairs.
 * Hot path (every getVariant with exposure logging) — must not allocate or build strings on a
 * hit: two Map lookups on the caller's own strings and no write. Recency is refreshed only for
 * entries older than half the capacity, which keeps it an LRU in effect without a write per hit.
 * A ring of `capacity` slots records insertion order; a pair is evicted when its slot is reused
 * and still holds its current position.
 */
export class ExposureCache {
  private readonly byExperiment = new Map<string, Map<string, Entry>>();
  private readonly ringMap: (Map<string, Entry> | undefined)[];
  private readonly ringUnit: string[];
  private readonly ringSeq: Float64Array;
  private seq = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    // Filled, so V8 keeps them as dense arrays (a large holey `new Array(n)` goes dictionary-mode).
    this.ringMap = new Array<Map<string, Entry> | undefined>(capacity).fill(undefined);
    this.ringUnit = new Array<string>(capacity).fill('');
    this.ringSeq = new Float64Array(capacity);
  }

  /** True when this pair was not seen with this variant: the caller logs an exposure. */
  add(experiment: string, unitId: string, variant: string): boolean {
    let units = this.byExperiment.get(experiment);
    if (units === undefined) {
      units = new Map();
      this.byExperiment.set(experiment, units);
    }
    const hit = units.get(unitId);
    if (hit !== undefined) {
      if (hit.variant === variant) {
        if (this.seq - hit.seq > this.capacity >> 1) this.place(units, unitId, hit);
        return false;
      }
      // Re-randomised or re-configured: a new variant is a new exposure.
      hit.variant = variant;
      this.place(units, unitId, hit);
      return true;
    }
    const entry: Entry = { variant, seq: 0 };
    this.place(units, unitId, entry);
    units.set(unitId, entry);
    this.count++;
    return true;
  }

  get size(): number {
    return this.count;
  }

  /** Gives `entry` the newest position, evicting the pair that last held the reused slot. */
  private place(units: Map<string, Entry>, unitId: string, entry: Entry): void {
    const seq = ++this.seq;
    entry.seq = seq;
    const slot = seq % this.capacity;
    const oldMap = this.ringMap[slot];
    if (oldMap !== undefined) {
      const oldUnit = this.ringUnit[slot];
      const old = oldMap.get(oldUnit);
      if (old !== undefined && old.seq === this.ringSeq[slot]) {
        oldMap.delete(oldUnit);
        this.count--;
      }
    }
    this.ringMap[slot] = units;
    this.ringUnit[slot] = unitId;
    this.ringSeq[slot] = seq;
  }
}
