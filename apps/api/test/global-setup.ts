import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
// Declares `adminDatabaseUrl`, which this setup provides and createTestDatabase injects.
import type {} from '@strata/test-support/api';

/**
 * One throwaway PostgreSQL for the whole run: embedded on a free port (never 5432), or the
 * server named by TEST_DATABASE_URL.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return async () => undefined;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-test-pg-'));
  // PostgreSQL runs as the `postgres` user when we are root: it must reach the folder.
  chmodSync(dataDir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir, persistent: false, database: 'strata_admin' });
  project.provide('adminDatabaseUrl', pg.url);
  return async () => {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
