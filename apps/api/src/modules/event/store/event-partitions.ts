import type { Logger } from '@nestjs/common';
import type { Client } from 'pg';
import { isDatabaseUnavailable } from '../../../common/errors/postgres-errors';

const DAY_MS = 86_400_000;

/** UTC day number (days since the epoch) of an epoch-ms time. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `events_YYYYMMDD` and its range [from, to) for a UTC day number. */
export function partitionFor(day: number): { name: string; from: string; to: string } {
  const from = new Date(day * DAY_MS);
  const to = new Date((day + 1) * DAY_MS);
  const ymd = from.toISOString().slice(0, 10).replace(/-/g, '');
  return { name: `events_${ymd}`, from: from.toISOString(), to: to.toISOString() };
}

/** Daily partitions known to exist (shared by every connection of the process). */
export class EventPartitions {
  private readonly known = new Set<number>();
  /** Day → the table its rows are COPYed into: its partition, or `events` when that could not be created. */
  private readonly tables = new Map<number, string>();

  constructor(private readonly logger: Logger) {}

  /** Where rows of `day` go; `ensure` must have seen the day. */
  tableFor(day: number): string {
    return this.tables.get(day) ?? 'events';
  }

  async ensure(client: Client, days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.known.has(day)) continue;
      const p = partitionFor(day);
      try {
        // Names and bounds come from a day number, never from user input.
        await client.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF events FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
        this.tables.set(day, p.name);
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        // A concurrent creator won, or the DEFAULT partition already holds rows of that day (they stay there).
        this.logger.warn(`partition ${p.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.known.add(day);
    }
  }
}
