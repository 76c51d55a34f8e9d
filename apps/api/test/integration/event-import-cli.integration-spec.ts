import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

let t: TestApp;
let dir: string;
const root = resolve(__dirname, '../../../..');

beforeAll(async () => {
  t = await createTestApp();
  await t.listen();
  dir = mkdtempSync(join(tmpdir(), 'strata-import-'));
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), 'apps/api/src/cli/import.ts', ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

it('npm run import streams a file in chunks, reports totals and file line numbers of rejected lines, and is safe to re-run', async () => {
  const file = join(dir, 'events.ndjson');
  const lines = Array.from({ length: 25_000 }, (_, i) => JSON.stringify({ id: randomUUID(), type: 'metric', unitId: `cli-${i}`, name: 'cli', value: i }));
  lines[12_345] = '{broken';
  writeFileSync(file, `${lines.join('\n')}\n`);

  const first = await run([file, '--url', t.baseUrl as string, '--chunk', '5000'], { STRATA_ADMIN_KEY: TEST_ADMIN_KEY });
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('25000 lines');
  expect(first.stdout).toContain('24999 stored, 0 duplicates, 1 rejected');
  expect(first.stdout).toContain('line 12346: invalid_event');
  const [{ n }] = await t.dataSource.query(`SELECT count(*)::int n FROM events WHERE name = 'cli'`);
  expect(n).toBe(24_999);

  const again = await run([file, '--url', t.baseUrl as string, '--key', TEST_ADMIN_KEY]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('0 stored, 24999 duplicates, 1 rejected');
}, 120_000);

it('exits non-zero with a message when the key is wrong', async () => {
  const file = join(dir, 'one.ndjson');
  writeFileSync(file, '{"type":"metric","unitId":"u","name":"x"}\n');
  const res = await run([file, '--url', t.baseUrl as string, '--key', 'sk_admin_wrong-key-0000000000']);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('HTTP 401');
}, 60_000);
