import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../../..');
const dataDir = mkdtempSync(join(tmpdir(), 'strata-admin-key-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm start`'s entry point with this STRATA_ADMIN_KEY: its exit code and what it wrote to stderr. */
function start(adminKey: string): Promise<{ code: number | null; stderr: string }> {
  const env = { ...process.env, STRATA_ADMIN_KEY: adminKey, STRATA_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
  const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), 'apps/api/src/main.ts'], { cwd: root, env, detached: true });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done, fail) => {
    // Configuration is checked before the database starts: a weak key must stop it within seconds.
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      fail(new Error(`the API did not stop on a weak STRATA_ADMIN_KEY; stderr: ${stderr}`));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

describe('STRATA_ADMIN_KEY from the environment', () => {
  it('refuses a 16-character key with one clear start-up error line', async () => {
    const { code, stderr } = await start('abcdefghijklmnop');
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^Invalid configuration: STRATA_ADMIN_KEY: carries at most 96 bits, 128 are required: generate one with `openssl rand -hex 16`/,
    );
  });

  it('refuses a long key of one repeated character', async () => {
    const { code, stderr } = await start(`sk_admin_${'x'.repeat(40)}`);
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^Invalid configuration: STRATA_ADMIN_KEY: not accepted: it repeats too few distinct characters/);
  });
});
