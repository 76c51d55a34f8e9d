import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

/*
 * `npm start`'s process (main.ts) on its own embedded PostgreSQL: SIGTERM while a client holds a
 * request half-sent. The request would keep app.close() waiting forever; after the grace period
 * its connection is closed and shutdown goes on, down to stopping PostgreSQL.
 */
const root = resolve(__dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'strata-shutdown-'));
chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach the folder
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('closes connections still open after the grace period, then stops PostgreSQL and exits 0', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    STRATA_DATA_DIR: dir,
    STRATA_DISABLE_JOBS: 'true',
    STRATA_DASHBOARD_DIR: '/nonexistent',
    STRATA_SHUTDOWN_GRACE_SECONDS: '1',
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), 'apps/api/src/main.ts'], { cwd: root, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  try {
    const port = await new Promise<number>((done, fail) => {
      const timer = setInterval(() => {
        const m = /Strata is running at http:\/\/localhost:(\d+)/.exec(stdout);
        if (m) {
          clearInterval(timer);
          done(Number(m[1]));
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        fail(new Error(`main.ts exited ${code} before listening: ${stderr}`));
      });
    });
    // Half a request: the body promises 1,000 bytes and never sends them.
    const socket = connect(port, '127.0.0.1');
    await new Promise((done) => socket.on('connect', done));
    socket.write('POST /v1/layers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"key":');
    const socketClosed = new Promise((done) => socket.on('close', done));
    socket.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));

    const started = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stdout).toContain('Strata stopped.');
    expect(stderr).toContain('closing their connections');
    await socketClosed;
    // PostgreSQL stopped with it: its pid file is gone.
    expect(existsSync(join(dir, 'pg', 'postmaster.pid'))).toBe(false);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 120_000);
