import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Variant values: one value type per experiment and a default value for units not in it. The
 * variants' own values live in the existing `variants` jsonb (each variant object gains `value`).
 * Existing experiments keep null: their variants carry no values.
 */
export class AddValuesToExperiments1764105000000 implements MigrationInterface {
  name = 'AddValuesToExperiments1764105000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE experiments
        ADD COLUMN value_type text CHECK (value_type IN ('boolean', 'string', 'number', 'json')),
        ADD COLUMN default_value jsonb,
        ADD CONSTRAINT experiments_default_value_with_type CHECK ((value_type IS NULL) = (default_value IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE experiments DROP CONSTRAINT experiments_default_value_with_type, DROP COLUMN default_value, DROP COLUMN value_type',
    );
    // The variants' values stay inside the variants jsonb; drop them so the old code sees what it wrote.
    await q.query(
      `UPDATE experiments SET variants = (SELECT jsonb_agg(v - 'value' ORDER BY i) FROM jsonb_array_elements(variants) WITH ORDINALITY AS t(v, i)) WHERE variants::text LIKE '%"value"%'`,
    );
  }
}
