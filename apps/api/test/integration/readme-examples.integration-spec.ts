import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AssignResponse } from '@strata/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The README's examples for values, OpenFeature (server and web) and the Python SDK are files that
 * the README includes verbatim (checked here) and that this spec runs against the real API.
 */
const ROOT = resolve(__dirname, '../../../..');
const EXAMPLES = {
  values: 'apps/api/test/readme-examples/values.ts',
  server: 'apps/api/test/readme-examples/openfeature-server.ts',
  web: 'apps/api/test/readme-examples/openfeature-web.ts',
  python: 'libs/sdk-python/examples/quickstart.py',
};
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8').trimEnd();

let t: TestApp;
let base: string;
let serverKey: string;
let clientKey: string;

async function reply(unitId: string, attributes: Record<string, string>): Promise<AssignResponse> {
  const res = await fetch(`${base}/v1/assign`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ unitId, attributes }),
  });
  return (await res.json()) as AssignResponse;
}

/** What the examples must print for a unit: its variant's value, or the experiment's default. */
async function valueOf(experiment: string, unitId: string, attributes: Record<string, string>): Promise<unknown> {
  const r = await reply(unitId, attributes);
  const a = r.assignments.find((x) => x.experiment === experiment);
  return a ? (a.value ?? a.variant) : r.defaults?.[experiment];
}

beforeAll(async () => {
  t = await createTestApp();
  base = await t.listen();
  serverKey = (await t.admin('POST', '/v1/api-keys', { name: 'readme', type: 'sdk-server' })).body.secret;
  clientKey = (await t.admin('POST', '/v1/api-keys', { name: 'readme web', type: 'sdk-client' })).body.secret;
  for (const key of ['checkout', 'api']) expect((await t.admin('POST', '/v1/layers', { key, name: key })).status).toBe(201);
  const bodies = [
    // button-colour: user-42 (DE) is in it; user-43 (US) is not targeted and gets the default.
    {
      key: 'button-colour',
      layer: 'checkout',
      valueType: 'string',
      defaultValue: 'silver',
      targeting: { attribute: 'country', operator: 'eq', value: 'DE' },
      variants: [
        { key: 'control', weight: 0.5, value: 'grey' },
        { key: 'treatment', weight: 0.5, value: 'green' },
      ],
    },
    {
      key: 'rate-limits',
      layer: 'api',
      valueType: 'json',
      defaultValue: { perMinute: 30 },
      variants: [
        { key: 'control', weight: 0.5, value: { perMinute: 30 } },
        { key: 'treatment', weight: 0.5, value: { perMinute: 60 } },
      ],
    },
  ];
  for (const b of bodies) {
    const res = await t.admin('POST', '/v1/experiments', { name: b.key, ...b });
    expect(res.status, res.text).toBe(201);
    expect((await t.admin('POST', `/v1/experiments/${b.key}/start`, {})).status).toBe(200);
  }
  const end = Date.now() + 10_000;
  while (
    (
      (await (await fetch(`${base}/v1/sdk/config`, { headers: { authorization: `Bearer ${serverKey}` } })).json()) as {
        experiments: unknown[];
      }
    ).experiments.length < 2
  ) {
    if (Date.now() > end) throw new Error('snapshot did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await t?.close();
});

describe('README examples', () => {
  it('are included verbatim in the READMEs', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [lang, file] of [
      ['ts', EXAMPLES.values],
      ['ts', EXAMPLES.server],
      ['ts', EXAMPLES.web],
      ['python', EXAMPLES.python],
    ] as const) {
      expect(readme, `${file} in README.md`).toContain(`\`\`\`${lang}\n${read(file)}\n\`\`\``);
    }
    expect(readFileSync(join(ROOT, 'libs/sdk-python/README.md'), 'utf8')).toContain(`\`\`\`python\n${read(EXAMPLES.python)}\n\`\`\``);
  });

  it('values: the TypeScript SDK example prints the unit’s values', async () => {
    const { main } = await import('../readme-examples/values.js');
    const out = await main(base, serverKey);
    expect(out).toEqual({
      colour: await valueOf('button-colour', 'user-42', { country: 'DE' }),
      limits: await valueOf('rate-limits', 'user-42', {}),
    });
  });

  it('OpenFeature server: same value, variant and reason as /v1/assign, and the track is stored', async () => {
    const { main } = await import('../readme-examples/openfeature-server.js');
    const out = await main(base, serverKey);
    const r = await reply('user-42', { country: 'DE' });
    const a = r.assignments.find((x) => x.experiment === 'button-colour');
    expect(out.colour).toMatchObject({ value: a?.value, variant: a?.variant, reason: 'SPLIT' });
    expect(out.limits).toEqual(await valueOf('rate-limits', 'user-42', { country: 'DE' }));
    const rows: { type: string; name: string | null; value: number | null }[] = await t.dataSource.query(
      `SELECT type, name, value FROM events WHERE unit_id = 'user-42'`,
    );
    expect(rows.filter((x) => x.type === 'metric').map((x) => [x.name, Number(x.value)])).toEqual([['purchase', 42.5]]);
    // Each of the two examples (its own client) exposed user-42 once per experiment.
    const exposures = rows.filter((x) => x.type === 'exposure');
    expect(exposures.length).toBe(4);
  });

  it('OpenFeature web (remote mode): each context gets its own answer', async () => {
    const { main } = await import('../readme-examples/openfeature-web.js');
    const out = await main(base, clientKey);
    expect(out.colour).toBe(await valueOf('button-colour', 'user-42', { country: 'DE' }));
    expect(out.other).toMatchObject({ value: 'silver', reason: 'DEFAULT' });
  });

  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!python && process.env.CI !== 'true')(
    'Python: the quickstart prints the unit’s values',
    async () => {
      if (!python) throw new Error('python3 is not available: the Python README example DID NOT RUN');
      const output = await new Promise<{ status: number | null; text: string }>((done) => {
        const child = spawn('python3', [join(ROOT, EXAMPLES.python)], {
          env: {
            ...process.env,
            PYTHONPATH: join(ROOT, 'libs/sdk-python/src'),
            PYTHONDONTWRITEBYTECODE: '1',
            STRATA_API_URL: base,
            STRATA_SDK_KEY: serverKey,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', (status) => {
          clearTimeout(timer);
          done({ status, text });
        });
      });
      expect(output.status, output.text).toBe(0);
      const colour = await valueOf('button-colour', 'user-42', { country: 'DE' });
      const limits = (await valueOf('rate-limits', 'user-42', { country: 'DE' })) as { perMinute: number };
      // new-checkout does not exist here: the example's getVariant answers None (the default experience).
      expect(output.text.trim()).toBe(`colour=${String(colour)} limits=${limits.perMinute} variant=None`);
    },
    90_000,
  );
});
