import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

/**
 * Pins this process (every thread) to core 0 and `childPid` to core 1, so the API and the load
 * generator each keep a core instead of being migrated between the two (Linux `taskset`; on 2
 * vCPUs that halved the spread of /v1/assign runs). False when not possible or BENCH_PIN=0.
 */
function pinCores(childPid: number): boolean {
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux' || cpus().length < 2) return false;
  const self = spawnSync('taskset', ['-apc', '0', String(process.pid)], { stdio: 'ignore' });
  const child = spawnSync('taskset', ['-apc', '1', String(childPid)], { stdio: 'ignore' });
  return self.status === 0 && child.status === 0;
}

/**
 * Shared by the HTTP benchmarks (files starting with `_` are not benchmarks themselves).
 * The load generator runs in a child process so it doesn't share the API's event loop; with
 * `pin`, the API process and the load generator each get one core of their own (see pinCores).
 */
export function runChildBench<T>(benchFile: string, args: string[], options: { pin?: boolean } = {}): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(__dirname, '../scripts/run-ts.js'), benchFile, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (options.pin && child.pid !== undefined) pinned = pinCores(child.pid);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) fail(new Error(`load generator exited with ${code}: ${stdout}`));
      else done(JSON.parse(line) as T);
    });
  });
}

let pinned = false;

/** Whether the last `runChildBench` with `pin` managed to pin (for the report). */
export function wasPinned(): boolean {
  return pinned;
}

/** A JSON call to the API with an admin key; throws with the response on a non-2xx. */
export async function adminCall<T = unknown>(key: string, base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
