import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Shared by the HTTP benchmarks (files starting with `_` are not benchmarks themselves).
 * The load generator runs in a child process so it doesn't share the API's event loop.
 */
export function runChildBench<T>(benchFile: string, args: string[]): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(__dirname, '../scripts/run-ts.js'), benchFile, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
