import { Injectable } from '@nestjs/common';

/**
 * The time as the jobs that wait for it see it (rollout steps' minimum durations). Injected, so
 * a test moves it instead of waiting: `app.get(Clock).set(Date.parse(…))`, `.advance(ms)`.
 */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Tests: from now on the clock reads `epochMs` (and moves on from there with real time). */
  set(epochMs: number): void {
    this.offsetMs = epochMs - Date.now();
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
