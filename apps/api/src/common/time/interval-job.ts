import type { Logger } from '@nestjs/common';

/**
 * A sweep run every `seconds` from `start` (on application bootstrap) to `stop` (on shutdown).
 * The timer never holds the process open; a failed run is logged and the next one runs on time.
 */
export class IntervalJob {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    /** Logged before the error, e.g. `rollout sweep failed`. */
    private readonly failure: string,
    private readonly run: () => Promise<unknown>,
  ) {}

  start(seconds: number): void {
    this.stop();
    this.timer = setInterval(
      () => void this.run().catch((err: unknown) => this.logger.error(`${this.failure}: ${String(err)}`)),
      seconds * 1000,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
