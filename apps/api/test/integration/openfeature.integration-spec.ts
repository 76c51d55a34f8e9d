import {
  OpenFeature as ServerOpenFeature,
  ProviderEvents,
  type Client,
  type EvaluationDetails,
  type JsonValue,
} from '@openfeature/server-sdk';
import { OpenFeature as WebOpenFeature } from '@openfeature/web-sdk';
import type { AssignResponse, Assignment } from '@strata/contracts';
import { createClient, type StrataClient } from '@strata/sdk';
import { StrataServerProvider } from '@strata/sdk/openfeature/server';
import { StrataWebProvider } from '@strata/sdk/openfeature/web';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The OpenFeature providers against the real API and PostgreSQL, through the real OpenFeature
 * SDKs: an app using @openfeature/server-sdk gets the same variant and value as POST /v1/assign
 * for 10,000 units and every value type; errors map to the spec's codes; exposures go out
 * through the provider's hook; config changes emit ConfigurationChanged; the web provider agrees
 * in local and remote mode.
 */
let t: TestApp;
let base: string;
let serverKey: string;
let clientKey: string;
const clients: StrataClient[] = [];

type FlagType = 'boolean' | 'string' | 'number' | 'object';
interface Flag {
  key: string;
  type: FlagType;
  /** The caller's default in getXDetails. */
  fallback: boolean | string | number | JsonValue;
}
const FLAGS: Flag[] = [
  { key: 'flag-bool', type: 'boolean', fallback: true },
  { key: 'flag-string', type: 'string', fallback: 'fallback' },
  { key: 'flag-number', type: 'number', fallback: -1 },
  { key: 'flag-json', type: 'object', fallback: { fallback: true } },
  { key: 'flag-plain', type: 'string', fallback: 'fallback' },
  { key: 'flag-shipped', type: 'string', fallback: 'fallback' },
];
const COUNTRIES = ['DE', 'AT', 'FR', 'US'];
const ids = Array.from({ length: 10_000 }, (_, i) => `of-${i}`);
const countryOf = (i: number) => COUNTRIES[i % COUNTRIES.length] as string;

async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await t.admin(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.text}`);
  return res.body;
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function strata(options: Partial<Parameters<typeof createClient>[0]> = {}): StrataClient {
  const c = createClient({ apiUrl: base, sdkKey: serverKey, flushIntervalMs: 60_000, logExposures: false, ...options });
  clients.push(c);
  return c;
}

const replies = new Map<string, AssignResponse>();

beforeAll(async () => {
  t = await createTestApp();
  base = await t.listen();
  serverKey = ((await admin('POST', '/v1/api-keys', { name: 'of server', type: 'sdk-server' })) as { secret: string }).secret;
  clientKey = ((await admin('POST', '/v1/api-keys', { name: 'of web', type: 'sdk-client' })) as { secret: string }).secret;
  for (const key of ['web', 'api', 'growth', 'plain', 'won']) await admin('POST', '/v1/layers', { key, name: key });
  const two = (a: unknown, b: unknown) => [
    { key: 'control', weight: 0.5, value: a },
    { key: 'treatment', weight: 0.5, value: b },
  ];
  const experiments = [
    {
      key: 'flag-bool',
      layer: 'web',
      traffic: 50,
      valueType: 'boolean',
      defaultValue: false,
      variants: two(false, true),
      forcedVariants: [{ unitId: 'of-7', variant: 'treatment' }],
    },
    {
      key: 'flag-string',
      layer: 'web',
      traffic: 40,
      valueType: 'string',
      defaultValue: 'grey',
      variants: two('grey', 'green'),
      targeting: { attribute: 'country', operator: 'in', value: ['DE', 'AT'] },
    },
    {
      key: 'flag-number',
      layer: 'api',
      traffic: 100,
      valueType: 'number',
      defaultValue: 5,
      variants: [
        { key: 'low', weight: 0.2, value: 10 },
        { key: 'mid', weight: 0.3, value: 20.5 },
        { key: 'high', weight: 0.5, value: 30 },
      ],
    },
    {
      key: 'flag-json',
      layer: 'growth',
      traffic: 70,
      valueType: 'json',
      defaultValue: { limit: 1 },
      variants: two({ limit: 1 }, { limit: 5, tags: ['x', 'y'], nested: { on: true } }),
    },
    { key: 'flag-plain', layer: 'plain', traffic: 60, variants: two(undefined, undefined).map(({ key, weight }) => ({ key, weight })) },
    {
      key: 'flag-shipped',
      layer: 'won',
      traffic: 100,
      valueType: 'string',
      defaultValue: 'old',
      variants: two('old', 'new'),
      targeting: { attribute: 'country', operator: 'neq', value: 'US' },
    },
  ];
  for (const e of experiments) {
    await admin('POST', '/v1/experiments', { name: e.key, ...e });
    await admin('POST', `/v1/experiments/${e.key}/start`, {});
  }
  await admin('POST', '/v1/experiments/flag-shipped/ship', { variant: 'treatment' });
  await until(async () => {
    const res = await fetch(`${base}/v1/sdk/config`, { headers: { authorization: `Bearer ${serverKey}` } });
    const snap = (await res.json()) as { experiments: { key: string; status: string }[] };
    return snap.experiments.length === FLAGS.length && snap.experiments.some((e) => e.status === 'shipped');
  });
  // The reference: POST /v1/assign for every unit, 16 requests at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const i = next++;
        const res = await fetch(`${base}/v1/assign`, {
          method: 'POST',
          headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ unitId: ids[i], attributes: { country: countryOf(i) } }),
        });
        expect(res.status).toBe(200);
        replies.set(ids[i] as string, (await res.json()) as AssignResponse);
      }
    }),
  );
}, 180_000);

afterAll(async () => {
  await ServerOpenFeature.close();
  await WebOpenFeature.close();
  await Promise.all(clients.map((c) => c.close(1000)));
  await t?.close();
});

const REASONS: Record<Assignment['reason'], string> = { bucketed: 'SPLIT', forced: 'TARGETING_MATCH', shipped: 'TARGETING_MATCH' };

/** What the provider must answer, from the /v1/assign reply. */
function expected(flag: Flag, reply: AssignResponse): { value: unknown; variant: string | undefined; reason: string } {
  const a = reply.assignments.find((x) => x.experiment === flag.key);
  if (a) return { value: a.value ?? a.variant, variant: a.variant, reason: REASONS[a.reason] };
  return { value: reply.defaults?.[flag.key] ?? flag.fallback, variant: undefined, reason: 'DEFAULT' };
}

type AnyDetails = EvaluationDetails<boolean | string | number | JsonValue>;

function details(client: Client, flag: Flag, context: Record<string, string>): Promise<AnyDetails> {
  switch (flag.type) {
    case 'boolean':
      return client.getBooleanDetails(flag.key, flag.fallback as boolean, context);
    case 'string':
      return client.getStringDetails(flag.key, flag.fallback as string, context);
    case 'number':
      return client.getNumberDetails(flag.key, flag.fallback as number, context);
    case 'object':
      return client.getObjectDetails(flag.key, flag.fallback as JsonValue, context);
  }
}

describe('server provider: same variant and value as POST /v1/assign', () => {
  it('for 10,000 units and every value type', async () => {
    await ServerOpenFeature.setProviderAndWait('parity', new StrataServerProvider(strata(), { logExposures: false }));
    const client = ServerOpenFeature.getClient('parity');
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const reply = replies.get(id) as AssignResponse;
      for (const flag of FLAGS) {
        const d = await details(client, flag, { targetingKey: id, country: countryOf(i) });
        const want = expected(flag, reply);
        if (
          d.errorCode !== undefined ||
          d.variant !== want.variant ||
          d.reason !== want.reason ||
          JSON.stringify(d.value) !== JSON.stringify(want.value)
        ) {
          expect({ id, flag: flag.key, value: d.value, variant: d.variant, reason: d.reason, error: d.errorCode }).toEqual({
            id,
            flag: flag.key,
            ...want,
            error: undefined,
          });
        }
        const s = seen.get(flag.key) ?? new Set<string>();
        s.add(`${d.reason}:${JSON.stringify(d.value)}`);
        seen.set(flag.key, s);
      }
    }
    // Every kind of answer occurred: splits over every value, defaults, the forced unit, the shipped winner.
    expect([...(seen.get('flag-bool') ?? [])].sort()).toEqual(['DEFAULT:false', 'SPLIT:false', 'SPLIT:true', 'TARGETING_MATCH:true']);
    expect([...(seen.get('flag-string') ?? [])].sort()).toEqual(['DEFAULT:"grey"', 'SPLIT:"green"', 'SPLIT:"grey"']);
    expect([...(seen.get('flag-number') ?? [])].sort()).toEqual(['SPLIT:10', 'SPLIT:20.5', 'SPLIT:30']);
    expect(seen.get('flag-json')?.size).toBe(3);
    expect([...(seen.get('flag-plain') ?? [])].sort()).toEqual(['DEFAULT:"fallback"', 'SPLIT:"control"', 'SPLIT:"treatment"']);
    expect([...(seen.get('flag-shipped') ?? [])].sort()).toEqual(['DEFAULT:"old"', 'TARGETING_MATCH:"new"']);
  }, 180_000);

  it('carries flag metadata', async () => {
    const client = ServerOpenFeature.getClient('parity');
    const i = ids.findIndex((id) => replies.get(id)?.assignments.some((a) => a.experiment === 'flag-json' && a.reason === 'bucketed'));
    const d = await client.getObjectDetails('flag-json', {}, { targetingKey: ids[i] as string });
    expect(d.flagMetadata).toEqual({ experiment: 'flag-json', layer: 'growth', valueType: 'json', assignmentReason: 'bucketed' });
  });
});

describe('server provider: errors', () => {
  it('maps unknown flags, wrong types and a missing targeting key to the spec codes', async () => {
    const client = ServerOpenFeature.getClient('parity');
    const ctx = { targetingKey: 'of-1' };
    const unknown = await client.getStringDetails('no-such-flag', 'd', ctx);
    expect(unknown).toMatchObject({ value: 'd', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    expect(await client.getNumberDetails('flag-string', 3, ctx)).toMatchObject({ value: 3, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(await client.getBooleanDetails('flag-json', false, ctx)).toMatchObject({ value: false, errorCode: 'TYPE_MISMATCH' });
    expect(await client.getObjectDetails('flag-plain', {}, ctx)).toMatchObject({ errorCode: 'TYPE_MISMATCH' });
    expect(await client.getStringDetails('flag-string', 'd', {})).toMatchObject({ value: 'd', errorCode: 'TARGETING_KEY_MISSING' });
  });

  it('answers PROVIDER_NOT_READY while no configuration could be loaded', async () => {
    const dead = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const provider = new StrataServerProvider(
      createClient({ apiUrl: `http://127.0.0.1:${dead}`, sdkKey: serverKey, timeoutMs: 200, retryBaseMs: 50 }),
    );
    await expect(ServerOpenFeature.setProviderAndWait('dead', provider)).rejects.toThrow(/no configuration/);
    const d = await ServerOpenFeature.getClient('dead').getStringDetails('flag-string', 'd', { targetingKey: 'x' });
    expect(d).toMatchObject({ value: 'd', reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    await ServerOpenFeature.clearProviders();
    await ServerOpenFeature.setProviderAndWait('parity', new StrataServerProvider(strata(), { logExposures: false }));
  });
});

describe('server provider: events, exposures and tracking', () => {
  it('emits ConfigurationChanged when the configuration changes', async () => {
    await ServerOpenFeature.setProviderAndWait('events', new StrataServerProvider(strata({ pollIntervalMs: 100 })));
    const changes: unknown[] = [];
    ServerOpenFeature.getClient('events').addHandler(ProviderEvents.ConfigurationChanged, (e) => changes.push(e));
    await admin('POST', '/v1/experiments/flag-json/ramp', { traffic: 80 });
    await until(() => changes.length > 0);
    expect(changes[0]).toMatchObject({ providerName: 'strata' });
  });

  it('logs one exposure per bucketed unit through its hook, none for forced or shipped units, and tracks metric events', async () => {
    const c = strata({ logExposures: true });
    await ServerOpenFeature.setProviderAndWait('exposures', new StrataServerProvider(c));
    const client = ServerOpenFeature.getClient('exposures');
    const units = ids.slice(0, 40);
    for (const [i, id] of units.entries()) {
      await client.getNumberValue('flag-number', 0, { targetingKey: id, country: countryOf(i) });
      await client.getNumberValue('flag-number', 0, { targetingKey: id, country: countryOf(i) }); // deduplicated
      await client.getStringValue('flag-shipped', '', { targetingKey: id, country: countryOf(i) }); // shipped: no exposure
    }
    await client.getBooleanValue('flag-bool', false, { targetingKey: 'of-7' }); // forced: no exposure
    client.track('purchase', { targetingKey: 'of-1' }, { value: 9.5, currency: 'EUR' });
    await c.flush();
    const rows: {
      type: string;
      unit_id: string;
      experiment_key: string | null;
      variant_key: string | null;
      value: number | null;
      attributes: Record<string, unknown> | null;
    }[] = await t.dataSource.query(`SELECT type, unit_id, experiment_key, variant_key, value, attributes FROM events`);
    const exposures = rows.filter((r) => r.type === 'exposure');
    expect(exposures).toHaveLength(40);
    for (const r of exposures) {
      expect(r.experiment_key).toBe('flag-number');
      expect(r.variant_key).toBe(replies.get(r.unit_id)?.assignments.find((a) => a.experiment === 'flag-number')?.variant);
      expect(r.attributes).toEqual({ country: countryOf(ids.indexOf(r.unit_id)) });
    }
    expect(
      rows.filter((r) => r.type === 'metric').map((r) => ({ unit: r.unit_id, value: Number(r.value), attributes: r.attributes })),
    ).toEqual([{ unit: 'of-1', value: 9.5, attributes: { currency: 'EUR' } }]);
  });
});

describe('web provider', () => {
  const units = Array.from({ length: 300 }, (_, k) => k * 33);

  /** The reference, asked again now: the configuration changed since the 10,000 replies (a ramp above). */
  async function freshReply(id: string, country: string): Promise<AssignResponse> {
    const res = await fetch(`${base}/v1/assign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ unitId: id, attributes: { country } }),
    });
    return (await res.json()) as AssignResponse;
  }

  async function agree(domain: string): Promise<void> {
    const client = WebOpenFeature.getClient(domain);
    for (const i of units) {
      const id = ids[i] as string;
      await WebOpenFeature.setContext(domain, { targetingKey: id, country: countryOf(i) });
      const reply = await freshReply(id, countryOf(i));
      for (const flag of FLAGS) {
        let d: AnyDetails;
        if (flag.type === 'boolean') d = client.getBooleanDetails(flag.key, flag.fallback as boolean);
        else if (flag.type === 'string') d = client.getStringDetails(flag.key, flag.fallback as string);
        else if (flag.type === 'number') d = client.getNumberDetails(flag.key, flag.fallback as number);
        else d = client.getObjectDetails(flag.key, flag.fallback as JsonValue);
        const want = expected(flag, reply);
        expect({ id, flag: flag.key, value: d.value, variant: d.variant, reason: d.reason, error: d.errorCode }).toEqual({
          id,
          flag: flag.key,
          ...want,
          error: undefined,
        });
      }
    }
  }

  it('agrees with POST /v1/assign in local mode with a client key', async () => {
    const c = createClient({ apiUrl: base, sdkKey: clientKey, logExposures: false });
    clients.push(c);
    await WebOpenFeature.setProviderAndWait('web-local', new StrataWebProvider(c, { logExposures: false }), {
      targetingKey: 'of-0',
      country: 'DE',
    });
    await agree('web-local');
    expect(WebOpenFeature.getClient('web-local').getStringDetails('no-such-flag', 'd')).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
  }, 60_000);

  it('agrees with POST /v1/assign in remote mode, loading each context on change', async () => {
    const c = createClient({ apiUrl: base, sdkKey: clientKey, mode: 'remote', logExposures: false });
    clients.push(c);
    await WebOpenFeature.setProviderAndWait('web-remote', new StrataWebProvider(c, { logExposures: false }), {
      targetingKey: 'of-0',
      country: 'DE',
    });
    await agree('web-remote');
    expect(WebOpenFeature.getClient('web-remote').getNumberDetails('flag-string', 1)).toMatchObject({ errorCode: 'TYPE_MISMATCH' });
  }, 60_000);
});
