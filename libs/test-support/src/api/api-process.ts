import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import type { ApiUnderTest } from './api-under-test';
import { createTestDatabase } from './test-database';

const root = resolve(__dirname, '../../../..');

export interface ApiProcess extends ApiUnderTest {
  baseUrl: string;
  port: number;
  /** The server's process id (its RSS is in /proc/<pid>/status). */
  pid: number;
  adminKey: string;
  /** The process's database (dropped by `close`), for reading what it stored. */
  databaseUrl: string;
  /** What the process printed so far (for failure messages). */
  output(): string;
  /** JSON request with the admin key unless `key` says otherwise (null: none). */
  request<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: T; text: string }>;
  /** Shorthand for an admin-key JSON request. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: T; text: string }>;
  /** Creates an SDK key of that type and returns its secret. */
  sdkKey(type: 'sdk-server' | 'sdk-client'): Promise<string>;
  /** SIGKILLs the process group and drops the database. */
  close(): Promise<void>;
}

/**
 * `npm start`'s entry point (apps/api/src/main.ts) in its own process group, on a fresh database of
 * the test PostgreSQL: a real server whose event loop the test does not share, so a test can
 * observe a stalled server without stalling itself. `env` adds to or overrides the defaults.
 */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const db = await createTestDatabase();
  const adminKey = `sk_admin_${randomBytes(24).toString('hex')}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    STRATA_ADMIN_KEY: adminKey,
    STRATA_DISABLE_JOBS: 'true',
    STRATA_DASHBOARD_DIR: '/nonexistent',
    LOG_LEVEL: 'warn',
    ...env,
  };
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [resolve(root, 'scripts/run-ts.js'), 'apps/api/src/main.ts'], {
    cwd: root,
    env: childEnv,
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  const kill = (): void => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  let port: number;
  try {
    port = await new Promise<number>((done, fail) => {
      const timer = setInterval(() => {
        const m = /Strata is running at http:\/\/localhost:(\d+)/.exec(out);
        if (m) {
          clearInterval(timer);
          done(Number(m[1]));
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        fail(new Error(`main.ts exited ${code} before listening:\n${out}`));
      });
    });
  } catch (error) {
    kill();
    await db.drop();
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const api: ApiProcess = {
    baseUrl,
    port,
    pid: child.pid ?? 0,
    adminKey,
    databaseUrl: db.url,
    output: () => out,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      const key = options.key === undefined ? adminKey : options.key;
      if (key) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (options.body !== undefined || options.raw !== undefined) {
        body = options.raw ?? JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    admin(method, path, body) {
      return api.request(method, path, { body });
    },
    async query(sql, params = []) {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    // The process's catalog follows the configuration feed, whose version (in /health) moves only
    // once every subscriber applied it: the catalog is current once that version reaches the stored one.
    async catalogSees(key, status, timeoutMs = 5000) {
      const [{ version }] = await api.query<{ version: string }>('SELECT version FROM config_version WHERE id');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const health = await api.request<{ config?: { version: number } }>('GET', '/health', { key: null });
        if ((health.body?.config?.version ?? -1) >= Number(version)) return;
        if (Date.now() > deadline) throw new Error(`catalog never saw ${key} ${status}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async sdkKey(type) {
      const res = await api.request<{ secret: string }>('POST', '/v1/api-keys', { body: { name: `security ${type}`, type } });
      if (res.status !== 201) throw new Error(`creating a ${type} key: ${res.status} ${res.text}`);
      return res.body.secret;
    },
    async close() {
      kill();
      await exited;
      await db.drop();
    },
  };
  return api;
}
