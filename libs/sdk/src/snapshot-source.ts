import type { ConfigSnapshot } from '@strata/contracts';
import { compileSnapshot, usesRegex, type CompiledSnapshot, type RegexCompiler } from '@strata/bucketing';
import { backoffDelay, errorMessage, request, unrefTimer } from './http';
import { StrataError } from './types';

let regexEngine: Promise<RegexCompiler> | null = null;

/** Loads the RE2 engine once per process, on the first snapshot that needs it. */
function loadRegexEngine(): Promise<RegexCompiler> {
  // re2js is several times the size of the rest of the SDK: it comes in its own chunk, loaded only
  // for a snapshot with a `regex` condition. The API evaluates with the same engine.
  regexEngine ??= import('@strata/bucketing/regex').then(
    (m) => m.compileRe2,
    (error: unknown) => {
      regexEngine = null;
      throw new StrataError('config', `could not load the regex engine: ${errorMessage(error)}`);
    },
  );
  return regexEngine;
}

export interface SnapshotSourceOptions {
  url: string;
  sdkKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
  pollIntervalMs: number;
  retryBaseMs: number;
  report: (error: StrataError) => void;
  onChange: () => void;
}

/**
 * Local mode: keeps a compiled snapshot of `GET /v1/sdk/config`, re-checked every
 * `pollIntervalMs` with If-None-Match (unchanged = 304, nothing to parse). A failed check keeps
 * the last good snapshot; until the first one arrives, checks are retried with backoff.
 */
export class SnapshotSource {
  compiled: CompiledSnapshot | null = null;
  private etag: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly o: SnapshotSourceOptions) {}

  start(): void {
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.release();
  }

  /** Resolves true once a snapshot is loaded, or false after `timeoutMs` (never rejects). */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.compiled !== null) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.compiled !== null), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(this.compiled !== null);
      });
    });
  }

  /** One check now (also what the poll timer runs). */
  async check(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${this.o.sdkKey}`, accept: 'application/json' };
      if (this.etag !== null) headers['if-none-match'] = this.etag;
      const res = await request(this.o.fetch, this.o.url, { method: 'GET', headers }, this.o.timeoutMs);
      if (res.status === 200) {
        const snapshot = res.body as ConfigSnapshot;
        if (snapshot === null || typeof snapshot !== 'object' || !Array.isArray(snapshot.experiments) || !Array.isArray(snapshot.layers))
          throw new StrataError('config', `GET ${this.o.url}: the answer is not a configuration snapshot`);
        const regex = snapshot.experiments.some((e) => usesRegex(e.targeting)) ? await loadRegexEngine() : null;
        this.compiled = compileSnapshot(snapshot, undefined, { regex });
        this.etag = res.headers.get('etag');
        this.failures = 0;
        this.release();
        this.o.onChange();
      } else if (res.status === 304) {
        this.failures = 0;
      } else {
        throw new StrataError('http', `GET ${this.o.url}: HTTP ${res.status}`, res.status, res.body);
      }
    } catch (error) {
      this.failures++;
      this.o.report(error instanceof StrataError ? error : new StrataError('config', errorMessage(error)));
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    // Before the first snapshot, retry sooner than the poll interval (but never faster than backoff).
    const delay =
      this.compiled === null && this.failures > 0
        ? Math.min(this.o.pollIntervalMs, backoffDelay(this.failures - 1, this.o.retryBaseMs, this.o.pollIntervalMs, null))
        : this.o.pollIntervalMs;
    this.timer = setTimeout(() => void this.check(), delay);
    unrefTimer(this.timer);
  }

  private release(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
