import 'reflect-metadata';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createApp } from '../apps/api/src/app.factory';
import { loadConfig, type AppConfig } from '../apps/api/src/config/app-config';
import { createDataSource, runMigrations } from '../apps/api/src/database/data-source';
import { startEmbeddedPostgres } from '../apps/api/src/database/embedded-postgres';
import { ApiKeyService } from '../apps/api/src/modules/api-key/api-key.service';

export interface BenchApi {
  base: string;
  databaseUrl: string;
  config: AppConfig;
  dataSource: DataSource;
  /** Stops the HTTP server only (the database stays for writer-only phases). */
  closeApp(): Promise<void>;
  /** Stops everything and removes the throwaway cluster (once; later calls do nothing). */
  stop(): Promise<void>;
}

/**
 * The real API on a throwaway embedded PostgreSQL, listening on 127.0.0.1 (shared by the HTTP
 * benchmarks; files starting with `_` are not benchmarks themselves).
 */
export async function startBenchApi(adminKey: string, env: NodeJS.ProcessEnv = {}): Promise<BenchApi> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  // PostgreSQL runs as the `postgres` user when we are root: it must be able to enter the folder.
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: dir, persistent: false });
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent', STRATA_DISABLE_JOBS: 'true', STRATA_DASHBOARD_DIR: '/nonexistent' });
  const dataSource = createDataSource({ url: pg.url });
  let app: Awaited<ReturnType<typeof createApp>> | null = null;
  const closeApp = async (): Promise<void> => {
    const running = app;
    app = null;
    if (running) await running.close();
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await closeApp();
    if (dataSource.isInitialized) await dataSource.destroy();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    app = await createApp(config, dataSource, pg.url);
    await app.listen({ port: 0, host: '127.0.0.1' });
    await app.get(ApiKeyService).ensureBootstrapKey(adminKey);
    const address = app.getHttpServer().address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return { base, databaseUrl: pg.url, config, dataSource, closeApp, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
