import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@strata/test-support/api';

/*
 * The README's curl examples, run as a newcomer would paste them: every ```bash block of the
 * "API overview" that calls curl, in order, in one bash, against a real server. The placeholders
 * (<admin key …>, <id>, <an sdk-server or sdk-client key>) get real values; nothing else is changed.
 * Each curl's status is recorded through a shell function that wraps the real binary, and none may
 * be 4xx or 5xx. (They were: start and revoke send a JSON content type without a body.)
 */
const README = resolve(__dirname, '../../../../README.md');
const CURL = spawnSync('curl', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'strata-readme-'));
let api: ApiProcess;

beforeAll(async () => {
  api = await startApiProcess();
}, 180_000);
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The ```bash blocks of README.md that call curl, in order. */
function curlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]).filter((b) => /\bcurl\b/.test(b) && /\$STRATA/.test(b));
}

it('runs every curl example of the README without a 4xx or 5xx', async () => {
  if (!CURL) {
    const message = 'curl is not installed: the README examples cannot run (apt-get install -y curl)';
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`\n*** SKIPPED: ${message} ***\n`);
    return;
  }
  const toRevoke = await api.request<{ id: string }>('POST', '/v1/api-keys', { body: { name: 'readme revoke', type: 'sdk-client' } });
  expect(toRevoke.status).toBe(201);
  const sdk = await api.sdkKey('sdk-server');
  const blocks = curlBlocks(readFileSync(README, 'utf8'));
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const script = blocks
    .join('\n')
    .replace(/<admin key printed by npm start>/g, api.adminKey)
    .replace(/<an sdk-server or sdk-client key>/g, sdk)
    .replace(/<id>/g, toRevoke.body.id)
    .replace(/^export STRATA=http:\/\/localhost:3000/m, `export STRATA=${api.baseUrl}`);
  expect(script, 'a placeholder left unfilled').not.toMatch(/<[a-z][^>]*>/);
  const curls = (script.match(/^\s*curl\s/gm) ?? []).length;
  // `command curl` runs the binary; -w appends the status after the body (or after -o's file).
  const wrapper = `set -u\ncurl() { command curl "$@" -w '\\n__STATUS__ %{http_code} %{url_effective}\\n'; }\n`;
  writeFileSync(join(dir, 'readme.sh'), wrapper + script);
  const run = spawnSync('bash', [join(dir, 'readme.sh')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  const statuses = [...run.stdout.matchAll(/^__STATUS__ (\d{3}) (\S+)$/gm)].map((m) => ({ status: Number(m[1]), url: m[2] }));
  expect(statuses, run.stdout).toHaveLength(curls);
  const failed = statuses.filter((s) => s.status >= 400);
  expect(failed, run.stdout).toEqual([]);
  // The examples did what they say: the key is revoked, the experiment ran, shipped and was concluded.
  const keys = await api.request<{ items: { id: string; revokedAt: string | null }[] }>('GET', '/v1/api-keys?limit=100');
  expect(keys.body.items.find((k) => k.id === toRevoke.body.id)?.revokedAt).toBeTruthy();
  const experiment = (await api.request<{ status: string; shippedVariant: string | null }>('GET', '/v1/experiments/new-checkout')).body;
  expect(experiment).toMatchObject({ status: 'concluded', shippedVariant: 'treatment' });
  expect(readFileSync(join(dir, 'results.csv'), 'utf8')).toMatch(/^\uFEFFexperiment,/);
}, 180_000);
