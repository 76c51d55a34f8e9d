import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingest throughput: the metric-event index only needs to find a unit's events (the analysis'
 * recompute of newly exposed units probes `events` by unit and filters name and time on the
 * rows). `(unit_id)` does that with a third of the key of `(name, unit_id, ts)`, and costs less
 * per inserted event: measured on the 2-core machine, PostgreSQL backend CPU per COPYed metric
 * event +2.7 µs for `(unit_id)` against +4 to +6 µs for `(name, unit_id, ts)`, on ~1.6M rows.
 * Rebuilding it reads every partition once.
 */
export class ChangeEventMetricIndexToUnitId1764005000000 implements MigrationInterface {
  name = 'ChangeEventMetricIndexToUnitId1764005000000';

  async up(q: QueryRunner): Promise<void> {
    // On the partitioned parent: every existing and future partition gets its own index.
    await q.query(`CREATE INDEX events_metric_unit_idx ON events (unit_id) WHERE type = 'metric'`);
    await q.query('DROP INDEX events_metric_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_metric_idx ON events (name, unit_id, ts) WHERE type = 'metric'`);
    await q.query('DROP INDEX events_metric_unit_idx');
  }
}
