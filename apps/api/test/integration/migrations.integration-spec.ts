import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { migrations } from '../../../../migrations';
import { createDataSource } from '../../src/database/data-source';
import { createTestDatabase } from '@strata/test-support/api';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = createDataSource({ url: db.url, poolSize: 2 });
  await ds.initialize();
});
afterAll(async () => {
  if (ds?.isInitialized) await ds.destroy();
  await db?.drop();
});

async function userTables(): Promise<string[]> {
  const rows: { tablename: string }[] = await ds.query(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY tablename",
  );
  return rows.map((r) => r.tablename);
}

describe('migrations', () => {
  it('are named <ms-timestamp>-<Verb><Object> and listed in timestamp order', () => {
    const names = migrations.map((m) => new m().name ?? m.name);
    for (const name of names) expect(name).toMatch(/^(Create|Add|Remove|Rename|Change|Drop|Backfill)[A-Za-z]+\d{13}$/);
    const stamps = names.map((n) => Number(/(\d{13})$/.exec(n)?.[1]));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('apply on a fresh database, revert completely, and apply again', async () => {
    const applied = await ds.runMigrations({ transaction: 'each' });
    expect(applied).toHaveLength(migrations.length);
    const tables = await userTables();
    expect(tables).toEqual(expect.arrayContaining(['api_keys', 'audit_log', 'config_version', 'layers', 'metrics', 'experiments', 'bucket_allocations']));
    for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await userTables()).toEqual([]);
    const again = await ds.runMigrations({ transaction: 'each' });
    expect(again).toHaveLength(migrations.length);
    expect(await userTables()).toEqual(tables);
  });
});
