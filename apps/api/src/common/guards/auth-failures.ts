/**
 * Failed authentications per client address (bad API keys, wrong passwords), in fixed windows:
 * past `limit` failures in `windowMs`, the client is refused with 429 and Retry-After until the
 * window ends. Keyed by address, never by key or account, so a stranger cannot lock a key holder
 * or a person out by failing on their behalf (only clients sharing the stranger's address).
 * Memory is bounded: at most `maxClients` addresses are tracked; when full, ended windows are
 * dropped first and then the oldest windows.
 */
export interface AuthFailureOptions {
  /** Failures allowed per window; 0 disables the limit. */
  limit: number;
  windowMs: number;
  maxClients: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

export class AuthFailures {
  /** In window-start order (a new window is re-inserted), so the oldest are at the front. */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly options: AuthFailureOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the client must wait before trying again, or 0 when it may try now. */
  retryAfter(client: string): number {
    if (this.options.limit === 0) return 0;
    const window = this.windows.get(client);
    if (window === undefined || window.failures < this.options.limit) return 0;
    const left = window.startedAt + this.options.windowMs - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Counts one failure; returns the seconds to wait when this one went over the limit, else 0. */
  fail(client: string): number {
    if (this.options.limit === 0) return 0;
    const now = this.now();
    let window = this.windows.get(client);
    if (window === undefined || now - window.startedAt >= this.options.windowMs) {
      this.windows.delete(client);
      this.makeRoom(now);
      window = { startedAt: now, failures: 0 };
      this.windows.set(client, window);
    }
    window.failures++;
    return this.retryAfter(client);
  }

  /** Addresses tracked now (for tests and /health-style introspection). */
  get size(): number {
    return this.windows.size;
  }

  private makeRoom(now: number): void {
    for (const [client, window] of this.windows) {
      if (this.windows.size < this.options.maxClients && now - window.startedAt < this.options.windowMs) return;
      this.windows.delete(client);
    }
  }
}
