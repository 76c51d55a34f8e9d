import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * Real API processes for the security specs: `node scripts/start.js` (what `npm start` execs) or
 * main.ts through run-ts, each in its own process group so that a test can kill -9 exactly the
 * node process (as a crash would) and still clean up everything it started, on failure too.
 */
export const ROOT = resolve(__dirname, '../../../..');

export interface ApiProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (null after a signal) once the process exited. */
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Waits for "Strata is running at …" and returns the base URL. */
  ready(timeoutMs?: number): Promise<string>;
}

const started = new Set<ApiProcess>();
const postmasterDirs = new Set<string>();

/** The common environment of a spawned API: no jobs, no dashboard, quiet logs. */
export function apiEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    STRATA_DISABLE_JOBS: 'true',
    STRATA_DASHBOARD_DIR: '/nonexistent',
    LOG_LEVEL: 'warn',
    ...extra,
  };
  if (!('DATABASE_URL' in extra)) delete env.DATABASE_URL;
  return env;
}

/** `npm`: `npm start` itself; `start`: what it execs (node scripts/start.js); `main`: main.ts through run-ts. */
export function spawnApi(env: NodeJS.ProcessEnv, entry: 'npm' | 'start' | 'main' = 'main'): ApiProcess {
  const [command, args] =
    entry === 'npm'
      ? ['npm', ['start', '--silent']]
      : [process.execPath, entry === 'start' ? [join(ROOT, 'scripts/start.js')] : [join(ROOT, 'scripts/run-ts.js'), 'apps/api/src/main.ts']];
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const api: ApiProcess = {
    child,
    pid: child.pid ?? -1,
    exited,
    stdout: () => out,
    stderr: () => err,
    ready: (timeoutMs = 90_000) =>
      new Promise<string>((done, fail) => {
        const deadline = Date.now() + timeoutMs;
        const timer = setInterval(() => {
          const m = /Strata is running at http:\/\/localhost:(\d+)/.exec(out);
          if (m) {
            clearInterval(timer);
            done(`http://127.0.0.1:${m[1]}`);
          } else if (Date.now() > deadline) {
            clearInterval(timer);
            fail(new Error(`API did not start within ${timeoutMs} ms:\n${out}\n${err}`));
          }
        }, 50);
        void exited.then((code) => {
          clearInterval(timer);
          fail(new Error(`API exited ${code} before listening:\n${out}\n${err}`));
        });
      }),
  };
  started.add(api);
  void exited.then(() => started.delete(api));
  return api;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The postmaster's pid from `<clusterDir>/postmaster.pid`, if that process is alive. */
export function livePostmaster(clusterDir: string): number | null {
  const file = join(clusterDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

/** Remember a cluster folder whose postmaster `killEverything` must stop (it runs in its own process group). */
export function trackPostmaster(clusterDir: string): void {
  postmasterDirs.add(clusterDir);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** SIGKILLs every process group a test started and every tracked postmaster; waits until they are gone. */
export async function killEverything(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const api of started) {
    killGroup(api.pid);
    waits.push(api.exited);
  }
  await Promise.all(waits);
  for (const dir of postmasterDirs) {
    const pid = livePostmaster(dir);
    if (pid !== null) killGroup(pid);
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const deadline = Date.now() + 10_000;
  while ([...postmasterDirs].some((d) => livePostmaster(d) !== null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

// A worker that dies (a timeout, a crash) must not leave servers behind.
process.once('exit', () => {
  for (const api of started) killGroup(api.pid);
});

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function json<T = unknown>(res: Response): Promise<T> {
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
