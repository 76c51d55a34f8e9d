import { createClient } from '@strata/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@strata/test-support/api';

/*
 * Private targeting data for client keys. An `sdk-client` key ships to browsers, so anyone can read
 * the /v1/sdk/config it gets. Before, that held the forced unit ids and every e-mail address written
 * in a targeting rule. Now client keys get no forced lists, and `secure` conditions only as salted
 * SHA-256 hashes that the SDK compares with the hash of the unit's value; server keys keep all.
 */
let api: ApiProcess;
let clientKey: string;
let serverKey: string;
const EMAILS = ['ada@example.com', 'grace@example.com'];
const FORCED = 'qa-account-7731';

beforeAll(async () => {
  api = await startApiProcess();
  expect((await api.request('POST', '/v1/layers', { body: { key: 'private', name: 'Private' } })).status).toBe(201);
  const exp = await api.request('POST', '/v1/experiments', {
    body: {
      key: 'beta',
      name: 'Beta',
      layer: 'private',
      traffic: 100,
      variants: [{ key: 'off', weight: 0.5 }, { key: 'on', weight: 0.5 }],
      targeting: {
        match: 'any',
        rules: [
          { attribute: 'email', operator: 'in', value: EMAILS, secure: true },
          { attribute: 'country', operator: 'eq', value: 'DE' },
        ],
      },
      forcedVariants: [{ unitId: FORCED, variant: 'off' }],
    },
  });
  expect(exp.status, exp.text).toBe(201);
  expect((await api.request('POST', '/v1/experiments/beta/start', { body: {} })).status).toBe(200);
  clientKey = await api.sdkKey('sdk-client');
  serverKey = await api.sdkKey('sdk-server');
}, 180_000);

afterAll(async () => api?.close());

it('gives client keys no forced unit ids and no secure values, and server keys the full config', async () => {
  const client = await api.request('GET', '/v1/sdk/config', { key: clientKey });
  expect(client.status).toBe(200);
  for (const secret of [...EMAILS, FORCED]) expect(client.text).not.toContain(secret);
  const exp = client.body.experiments.find((e: { key: string }) => e.key === 'beta');
  expect(exp.forcedVariants).toEqual([]);
  expect(exp.targeting.rules[0]).toEqual({ attribute: 'email', operator: 'in', value: [expect.stringMatching(/^[0-9a-f]{64}$/), expect.stringMatching(/^[0-9a-f]{64}$/)], hashSalt: exp.salt });
  expect(exp.targeting.rules[1]).toEqual({ attribute: 'country', operator: 'eq', value: 'DE' });

  const server = await api.request('GET', '/v1/sdk/config', { key: serverKey });
  for (const secret of [...EMAILS, FORCED]) expect(server.text).toContain(secret);
  expect(server.headers.get('etag')).not.toBe(client.headers.get('etag'));
  // Each revalidates against its own ETag.
  const again = await api.request('GET', '/v1/sdk/config', { key: clientKey, headers: { 'if-none-match': client.headers.get('etag') ?? '' } });
  expect(again.status).toBe(304);
});

it('evaluates the hashed condition in the SDK exactly as the server does with the plain one', async () => {
  const sdk = createClient({ apiUrl: api.baseUrl, sdkKey: clientKey, mode: 'local', flushIntervalMs: 60_000 });
  try {
    expect(await sdk.ready()).toBe(true);
    const cases: [string, Record<string, string>][] = [
      ['u1', { email: 'ada@example.com' }],
      ['u2', { email: 'grace@example.com', country: 'FR' }],
      ['u3', { email: 'eve@example.com' }],
      ['u4', { email: 'eve@example.com', country: 'DE' }],
      ['u5', {}],
    ];
    const local = cases.map(([unit, attributes]) => sdk.getVariant('beta', unit, attributes));
    // Targeted: the two secure e-mails (hash match) and DE; not eve outside DE, not a unit without attributes.
    expect(local.map((v) => v !== null)).toEqual([true, true, false, true, false]);
    for (const [i, [unitId, attributes]] of cases.entries()) {
      const remote = await api.request('POST', '/v1/assign', { key: clientKey, body: { unitId, attributes, experiments: ['beta'] } });
      expect(remote.body.assignments[0]?.variant ?? null, unitId).toBe(local[i]);
    }
    // The forced unit is not in the client's file, but the server still applies it remotely.
    const forced = await api.request('POST', '/v1/assign', { key: clientKey, body: { unitId: FORCED, attributes: { country: 'DE' }, experiments: ['beta'] } });
    expect(forced.body.assignments[0]).toMatchObject({ variant: 'off', reason: 'forced' });
  } finally {
    await sdk.close();
  }
});

it('refuses secure on conditions that cannot be hashed', async () => {
  const res = await api.request('POST', '/v1/experiments', {
    body: {
      key: 'secure-gt',
      name: 'x',
      layer: 'private',
      variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }],
      targeting: { attribute: 'age', operator: 'gt', value: 18, secure: true },
    },
  });
  expect(res.status).toBe(400);
  expect(res.body.error.details[0]).toMatchObject({ path: 'targeting.secure' });
});
