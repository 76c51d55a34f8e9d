import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';
import { createDataSource, runMigrations } from './database/data-source';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './database/embedded-postgres';
import { ApiKeyService } from './modules/api-key/api-key.service';
import { seedDemoIfEmpty } from './cli/demo/seed-demo';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * `npm start`: PostgreSQL (embedded under .data/ unless DATABASE_URL is set) → migrations →
 * API + dashboard on one port. SIGINT/SIGTERM close the server, then the database.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env, process.argv.slice(2));
  let embedded: EmbeddedPostgresHandle | null = null;
  let dataSource: DataSource | null = null;
  let app: NestFastifyApplication | null = null;
  let stopping = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal} received: shutting down…`);
    // Requests still open after the grace period (a client stalled mid-body, say) would hold
    // app.close() forever: close their connections so shutdown goes on and stops PostgreSQL.
    // Should even that hang, stop PostgreSQL anyway before exiting: never leave it running.
    const force = setTimeout(() => {
      process.stderr.write(`shutdown: requests still open after ${config.shutdownGraceMs / 1000} s; closing their connections\n`);
      app?.getHttpServer().closeAllConnections();
      const last = setTimeout(() => void (embedded?.stop() ?? Promise.resolve()).finally(() => process.exit(1)), 3_000);
      last.unref();
    }, config.shutdownGraceMs);
    force.unref();
    try {
      if (app) await app.close();
      if (dataSource?.isInitialized) await dataSource.destroy();
      if (embedded) await embedded.stop();
      say('Strata stopped.');
      process.exit(0);
    } catch (error) {
      process.stderr.write(`shutdown failed: ${String(error)}\n`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  let url = config.databaseUrl;
  // Scaled-out roles share one PostgreSQL; an embedded one belongs to a single process.
  if (!url && config.role !== 'all') throw new ConfigError(`Invalid configuration:\n  DATABASE_URL: the ${config.role} role needs the shared PostgreSQL (only role all embeds one)`);
  if (!url) {
    say(`Starting embedded PostgreSQL (data in ${config.dataDir})…`);
    // Supervised: restarted with backoff if it dies (the API answers 503 meanwhile); a server a
    // killed Strata left running on this data folder is stopped first.
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      persistent: true,
      ownSignals: true,
      port: config.embeddedPg.port,
      portFallbacks: config.embeddedPg.fallbacks,
      supervise: true,
      onNotice: say,
    });
    url = embedded.url;
  }
  dataSource = createDataSource({ url });
  await dataSource.initialize();
  // Only processes that serve the API migrate (TypeORM takes no lock: two migrating at once could collide).
  if (config.roles.api) {
    const applied = await runMigrations(dataSource);
    if (applied.length) say(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);
  } else if (await dataSource.showMigrations()) {
    throw new ConfigError(`The database has migrations pending: start an api (or all) process first; the ${config.role} role does not migrate.`);
  }

  app = await createApp(config, dataSource, url);
  await app.listen({ port: config.port, host: config.host });
  const generatedKey = await app.get(ApiKeyService).ensureBootstrapKey(config.bootstrapAdminKey);

  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://localhost:${port}`;
  say('');
  say(`Strata is running at ${base}${config.role === 'all' ? '' : ` (role ${config.role})`}`);
  if (config.roles.api) {
    say(`  dashboard  ${base}/`);
    say(`  API        ${base}/v1   (docs: ${base}/docs)`);
  } else say(`  health     ${base}/health   (stats: ${base}/v1/events/stats)`);
  say(`  database   ${embedded ? `embedded PostgreSQL on 127.0.0.1:${embedded.port}` : 'DATABASE_URL'}`);
  if (config.eventLog) say(`  event log  NATS JetStream ${config.eventLog.servers.join(',')} (stream ${config.eventLog.stream}, R${config.eventLog.replicas})${config.roles.writer ? ', writing it into PostgreSQL' : ''}`);
  if (generatedKey) {
    say('');
    say(`  Admin API key (shown only this once; stored hashed): ${generatedKey}`);
  }
  say('');
  if (process.argv.includes('--demo')) await seedDemoIfEmpty({ app, dataSource, baseUrl: `http://127.0.0.1:${port}`, say });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof EmbeddedPostgresError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Strata failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
