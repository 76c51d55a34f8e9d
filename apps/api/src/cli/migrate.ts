import 'reflect-metadata';
import { loadConfig } from '../config/app-config';
import { createDataSource } from '../database/data-source';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../database/embedded-postgres';

/**
 * npm run migrate              apply pending migrations
 * npm run migrate -- --revert  revert the most recent one
 * npm run migrate -- --status  list applied and pending migrations
 * Uses DATABASE_URL, or the embedded PostgreSQL under STRATA_DATA_DIR (default .data/).
 */
async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const config = loadConfig();
  let embedded: EmbeddedPostgresHandle | null = null;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, persistent: true });
    url = embedded.url;
  }
  const ds = createDataSource({ url, poolSize: 2 });
  await ds.initialize();
  try {
    if (args.has('--revert')) {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('Reverted the most recent migration.');
    } else if (args.has('--status')) {
      const applied: { name: string }[] = await ds.query('SELECT name FROM migrations ORDER BY id').catch(() => []);
      const done = new Set(applied.map((r) => r.name));
      for (const m of ds.migrations) console.log(`${done.has(m.name ?? '') ? 'applied' : 'pending'}  ${m.name}`);
    } else {
      const applied = await ds.runMigrations({ transaction: 'each' });
      console.log(applied.length ? `Applied ${applied.length}: ${applied.map((m) => m.name).join(', ')}` : 'Database is up to date.');
    }
  } finally {
    await ds.destroy();
    if (embedded) await embedded.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
