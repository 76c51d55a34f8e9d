import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingest throughput: nothing reads exposures from `events` by (experiment, unit) — analysis and
 * exports read `first_exposures`, which the collector keeps at ingest, and the incremental
 * analysis finds new events by `received_at` (BRIN). The partial index cost an index insert per
 * stored exposure (~2 µs of PostgreSQL CPU each on the 2-core machine) for no reader.
 */
export class RemoveEventExposureIndex1764005001000 implements MigrationInterface {
  name = 'RemoveEventExposureIndex1764005001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX events_exposure_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_exposure_idx ON events (experiment_key, unit_id) WHERE type = 'exposure'`);
  }
}
