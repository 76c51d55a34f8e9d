/**
 * Per-key token buckets in memory: `rps` tokens per second, at most `burst` saved up.
 * `take` answers 0 when the request may go, else the seconds to wait (for Retry-After).
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rps: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.rps > 0;
  }

  take(key: string): number {
    if (this.rps <= 0) return 0;
    const now = this.clock();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rps);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rps));
  }
}
