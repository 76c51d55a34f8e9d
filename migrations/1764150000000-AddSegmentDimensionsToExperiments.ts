import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An experiment's declared segment dimensions (issue #14): the exposure attributes (or
 * `day_of_week`) whose statistics the analysis engine keeps per value. NULL: the defaults
 * (country, platform, day_of_week), so existing experiments keep their stored state.
 */
export class AddSegmentDimensionsToExperiments1764150000000 implements MigrationInterface {
  name = 'AddSegmentDimensionsToExperiments1764150000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments ADD COLUMN segment_dimensions text[]');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE experiments DROP COLUMN segment_dimensions');
  }
}
