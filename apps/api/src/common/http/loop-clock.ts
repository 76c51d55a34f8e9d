import { performance } from 'node:perf_hooks';

/** How often the clock's timer ticks while the server listens; also the estimate's resolution. */
export const LOOP_TICK_MS = 20;

/**
 * Requests that arrive while the event loop is busy (a long synchronous turn, a GC pause) wait in
 * the kernel's socket buffers, and the server's handler first sees them only when the turn ends:
 * latency measured from the handler would leave that wait out. The clock's timer notes when it
 * ran. The loop was free until the timer was due (or the timer would not be late), so a request
 * the handler sees while the timer is overdue, or in the loop turn right after a late tick (Node
 * runs timers before it reads sockets), may have waited since the tick was due: `arrivedAt` puts
 * its arrival there. That is an upper bound of the wait for requests that arrived during the stall
 * and exact to within one tick for one that arrived as it began. One unref'd timer per server, not
 * a call per request; ~50 empty callbacks a second while idle.
 */
export class LoopClock {
  private lastTick = performance.now();
  /** When the loop became busy, during the loop turn after a late tick; else null. */
  private stallStart: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly tickMs = LOOP_TICK_MS) {}

  start(): void {
    if (this.timer !== null) return;
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stallStart = null;
  }

  /** When a request the handler sees at `now` reached the socket, at the earliest. */
  arrivedAt(now: number): number {
    if (this.timer === null) return now;
    const due = this.lastTick + this.tickMs;
    if (now > due) return due;
    return this.stallStart === null ? now : Math.min(now, this.stallStart);
  }

  private tick(): void {
    const now = performance.now();
    const due = this.lastTick + this.tickMs;
    this.lastTick = now;
    // A millisecond late is the timer's ordinary jitter, not a stall.
    if (now - due <= 1) return;
    this.stallStart = due;
    // The check phase follows the socket reads of this same turn.
    setImmediate(() => {
      this.stallStart = null;
    }).unref();
  }
}
