import { Injectable } from '@nestjs/common';
import type { EventRejection, EventRejectionCode } from '@strata/contracts';

/**
 * In-memory ingestion counters for this process (reset on restart), exposed at
 * `GET /v1/events/stats`. Rejections signal broken clients, so they are counted by code.
 */
@Injectable()
export class EventStats {
  readonly since = new Date();
  accepted = 0;
  duplicates = 0;
  rejected = 0;
  unavailable = 0;
  rateLimited = 0;
  readonly rejectedByCode: Partial<Record<EventRejectionCode, number>> = {};

  count(accepted: number, duplicates: number, rejected: readonly EventRejection[]): void {
    this.accepted += accepted;
    this.duplicates += duplicates;
    this.countRejected(rejected);
  }

  countRejected(rejected: readonly EventRejection[]): void {
    this.rejected += rejected.length;
    for (const r of rejected) this.rejectedByCode[r.code] = (this.rejectedByCode[r.code] ?? 0) + 1;
  }
}
