import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingest throughput: no query ranges over `first_exposures.first_ts` within an experiment — the
 * analysis selects an experiment's units by `received_at` (its own index) or all of them (the
 * primary key's prefix). The index cost one more index insert for every new first exposure and
 * every earlier exposure arriving late (updates cannot be HOT: `received_at` is indexed).
 */
export class RemoveFirstExposureTimeIndex1764005002000 implements MigrationInterface {
  name = 'RemoveFirstExposureTimeIndex1764005002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX first_exposures_experiment_ts_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX first_exposures_experiment_ts_idx ON first_exposures (experiment_key, first_ts)');
  }
}
