import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type ApiUnderTest } from '@strata/test-support/api';
import type { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { createDataSource, runMigrations } from '../../src/database/data-source';
import { ApiKeyService } from '../../src/modules/api-key/api-key.service';
import { ExperimentCatalog } from '../../src/modules/config-state/experiment-catalog';

export const TEST_ADMIN_KEY = 'sk_admin_integration-test-key-0123456789';

export interface TestResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
  text: string;
}

export interface TestApp extends ApiUnderTest {
  app: NestFastifyApplication;
  dataSource: DataSource;
  databaseUrl: string;
  config: AppConfig;
  /** Base URL once `listen()` was called. */
  baseUrl: string | null;
  listen(): Promise<string>;
  /** In-process HTTP request through Fastify's injector (full routing, hooks, filters). */
  request<T = any>(method: string, url: string, options?: { body?: unknown; key?: string | null; headers?: Record<string, string>; raw?: string }): Promise<TestResponse<T>>;
  /** Shorthand for admin-key requests. */
  admin<T = any>(method: string, url: string, body?: unknown): Promise<TestResponse<T>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Boot on this existing (migrated) database instead of a fresh one, e.g. a second API process; `close()` then leaves it in place. */
  databaseUrl?: string;
}

/** Boots the real API on a fresh migrated database (or on `options.databaseUrl`). */
export async function createTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await createTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', STRATA_DISABLE_JOBS: 'true', STRATA_DASHBOARD_DIR: '/nonexistent', ...env });
  const dataSource = createDataSource({ url: db.url, poolSize: 10 });
  await dataSource.initialize();
  await runMigrations(dataSource);
  const app = await createApp(config, dataSource, db.url);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await app.get(ApiKeyService).ensureBootstrapKey(TEST_ADMIN_KEY);
  const fastify = app.getHttpAdapter().getInstance();

  const testApp: TestApp = {
    app,
    dataSource,
    databaseUrl: db.url,
    config,
    baseUrl: null,
    async listen() {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.getHttpServer().address();
      const port = typeof address === 'object' && address ? address.port : 0;
      testApp.baseUrl = `http://127.0.0.1:${port}`;
      return testApp.baseUrl;
    },
    async request(method, url, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
      if (key) headers.authorization = `Bearer ${key}`;
      let payload: string | undefined;
      if (options.raw !== undefined) payload = options.raw;
      else if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fastify.inject({ method: method as 'GET', url, headers, payload });
      let body: unknown = undefined;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, headers: res.headers, body: body as never, text: res.body };
    },
    admin(method, url, body) {
      return testApp.request(method, url, { body });
    },
    query(sql, params) {
      return dataSource.query(sql, params);
    },
    // The collector's in-memory catalog follows ConfigChangeFeed (LISTEN + 1 s poll).
    async catalogSees(key, status, timeoutMs = 5000) {
      const catalog = app.get(ExperimentCatalog);
      const deadline = Date.now() + timeoutMs;
      while (catalog.get(key)?.status !== status) {
        if (Date.now() > deadline) throw new Error(`catalog never saw ${key} ${status}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await app.close();
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.drop();
    },
  };
  return testApp;
}
