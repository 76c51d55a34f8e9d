import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { backdatedStart } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * `npm run rollout` (apps/api/src/cli/rollout.ts) in its own process against a listening API on
 * real PostgreSQL, with a ci key from the environment: the exit codes a pipeline gates on.
 */

const root = join(__dirname, '../../../..');
let t: TestApp;
let ciKey: string;
let sdkKey: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.listen();
  ciKey = (await t.admin('POST', '/v1/api-keys', { name: 'pipeline', type: 'ci' })).body.secret;
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  expect((await t.admin('POST', '/v1/layers', { key: 'cli-layer', name: 'cli' })).status).toBe(201);
  const created = await t.admin('POST', '/v1/experiments', {
    key: 'cli-exp',
    name: 'cli',
    layer: 'cli-layer',
    traffic: 1,
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
  });
  expect(created.status).toBe(201);
  expect((await t.admin('POST', '/v1/experiments/cli-exp/start', { startedAt: backdatedStart() })).status).toBe(200);
  const plan = await t.admin('POST', '/v1/experiments/cli-exp/rollout', {
    steps: [
      { traffic: 10, minDurationSeconds: 86_400 },
      { traffic: 50, minDurationSeconds: 86_400 },
    ],
  });
  expect(plan.status).toBe(201);
}, 120_000);
afterAll(async () => {
  await t?.close();
});

function rollout(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, STRATA_URL: t.baseUrl as string, STRATA_API_KEY: ciKey, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), 'apps/api/src/cli/rollout.ts', ...args], {
      cwd: root,
      env: childEnv,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

it('exits 3 waiting, 0 healthy and 4 reverted on status; 0 for an applied command, 1 for a refused one, 2 for wrong usage', async () => {
  let r = await rollout(['status', '--experiment', 'cli-exp']);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stdout).toContain('cli-exp: WAITING — rollout running, step 1 of 2 (10 % of the layer)');
  expect(r.stdout).toMatch(/waiting for: minimum duration: \d+ s to go/);

  r = await rollout(['pause', '--experiment', 'cli-exp', '--reason', 'release freeze']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('pause: done');
  r = await rollout(['status', '--experiment', 'cli-exp']);
  expect(r.code).toBe(3);
  expect(r.stdout).toContain('waiting for: paused: waiting for a resume');
  r = await rollout(['pause', '--experiment', 'cli-exp']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('answered 409 — rollout_conflict: Cannot pause a rollout that is paused');

  expect((await rollout(['resume', '--experiment', 'cli-exp'])).code).toBe(0);
  r = await rollout(['advance', '--experiment', 'cli-exp', '--json']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ currentStep: 1, traffic: 50, status: 'running' });
  expect((await rollout(['advance', '--experiment', 'cli-exp'])).code).toBe(0);
  r = await rollout(['status', '--experiment', 'cli-exp']);
  expect(r.code, r.stdout).toBe(0);
  expect(r.stdout).toContain('HEALTHY — rollout completed');

  r = await rollout(['revert', '--experiment', 'cli-exp', '--to', 'zero', '--reason', 'error budget burnt']);
  expect(r.code, r.stderr).toBe(0);
  r = await rollout(['status', '--experiment', 'cli-exp']);
  expect(r.code).toBe(4);
  expect(r.stdout).toContain('REVERTED — rollout reverted, at 0 % (reverted to zero)');
  expect(r.stdout).toContain('reverted because: error budget burnt');
  expect((await t.admin('GET', '/v1/experiments/cli-exp')).body.traffic).toBe(0);
}, 120_000);

it('says clearly what is wrong: usage (2), unknown experiment, a key that may not, an unreachable API (1)', async () => {
  let r = await rollout(['status']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--experiment KEY is needed');
  expect(r.stderr).toContain('usage: npm run rollout --');
  r = await rollout(['deploy', '--experiment', 'cli-exp']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('give one command of status, advance, pause, resume, revert');
  r = await rollout(['status', '--experiment', 'cli-exp'], { STRATA_API_KEY: undefined });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('STRATA_API_KEY');
  r = await rollout(['advance', '--experiment', 'cli-exp', '--to', 'zero']);
  expect(r.code).toBe(2);
  r = await rollout(['status', '--experiment', 'nope']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('answered 404 — not_found: rollout plan "nope" was not found.');
  r = await rollout(['status', '--experiment', 'cli-exp', '--key', sdkKey]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('answered 403');
  r = await rollout(['status', '--experiment', 'cli-exp', '--url', 'http://127.0.0.1:1']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('cannot reach http://127.0.0.1:1');
}, 120_000);

it('speaks of the share of targeted units for a staged ship, not of the layer', async () => {
  const created = await t.admin('POST', '/v1/experiments', {
    key: 'cli-ship',
    name: 'cli ship',
    layer: 'cli-layer',
    traffic: 1,
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
  });
  expect(created.status).toBe(201);
  expect((await t.admin('POST', '/v1/experiments/cli-ship/start', { startedAt: backdatedStart() })).status).toBe(200);
  const shipped = await t.admin('POST', '/v1/experiments/cli-ship/ship', {
    variant: 'treatment',
    rollout: { steps: [{ traffic: 10, minDurationSeconds: 86_400 }, { traffic: 50, minDurationSeconds: 86_400 }, { traffic: 100 }] },
  });
  expect(shipped.status, JSON.stringify(shipped.body)).toBe(200);

  let r = await rollout(['status', '--experiment', 'cli-ship']);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stdout).toContain('cli-ship: WAITING — staged ship running, step 1 of 3 (10 % of targeted units get the winner)');
  expect(r.stdout).toContain('  units compared: 0 (0 in this step)');
  expect(r.stdout).not.toContain('of the layer');

  r = await rollout(['revert', '--experiment', 'cli-ship', '--to', 'zero']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('cli-ship: REVERTED — staged ship reverted, at 0 % of targeted units (reverted to zero)');
}, 120_000);
